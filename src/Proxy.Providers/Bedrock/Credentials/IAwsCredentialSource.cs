namespace Proxy.Providers.Bedrock.Credentials;

/// <summary>Where a provider's AWS credentials come from; sources that expire cache and refresh them themselves.</summary>
public interface IAwsCredentialSource
{
    /// <summary>For messages: "static keys from the config", "web identity (role ...)". Never a secret.</summary>
    string Description { get; }

    /// <exception cref="AwsCredentialsUnavailableException">The source could not produce credentials.</exception>
    ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken);
}

/// <summary>Keys given once (config or environment); session keys included.</summary>
public sealed class StaticCredentialSource(AwsCredentials credentials, string description) : IAwsCredentialSource
{
    public string Description { get; } = description;

    public ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(credentials);
}

/// <summary>The gateway could not get AWS credentials; the message says from where and why, never what.</summary>
public sealed class AwsCredentialsUnavailableException : Exception
{
    public AwsCredentialsUnavailableException()
    {
    }

    public AwsCredentialsUnavailableException(string message)
        : base(message)
    {
    }

    public AwsCredentialsUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
