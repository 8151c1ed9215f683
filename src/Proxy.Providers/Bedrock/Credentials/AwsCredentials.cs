namespace Proxy.Providers.Bedrock.Credentials;

/// <summary>One set of AWS keys to sign with. Its text form never shows the secret or the session token.</summary>
public sealed class AwsCredentials
{
    public AwsCredentials(string accessKeyId, string secretAccessKey, string? sessionToken = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKeyId);
        ArgumentException.ThrowIfNullOrEmpty(secretAccessKey);
        AccessKeyId = accessKeyId;
        SecretAccessKey = secretAccessKey;
        SessionToken = string.IsNullOrEmpty(sessionToken) ? null : sessionToken;
    }

    public string AccessKeyId { get; }

    public string SecretAccessKey { get; }

    /// <summary>Set for temporary credentials (STS, container roles); sent as x-amz-security-token.</summary>
    public string? SessionToken { get; }

    public override string ToString() =>
        $"AwsCredentials(...{(AccessKeyId.Length > 4 ? AccessKeyId[^4..] : "")}{(SessionToken is null ? "" : ", session")})";
}
