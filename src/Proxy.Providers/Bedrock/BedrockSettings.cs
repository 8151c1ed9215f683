using System.Text.RegularExpressions;
using Proxy.Config;

namespace Proxy.Providers.Bedrock;

/// <summary>The bedrock provider's own config fields, read from <see cref="ProviderSettings.Extra"/>.</summary>
public sealed partial record BedrockSettings
{
    public static readonly IReadOnlyCollection<string> Fields =
    [
        "region", "access_key_id", "secret_access_key", "session_token",
        "role_arn", "web_identity_token_file", "role_session_name", "sts_endpoint",
    ];

    /// <summary>Signing region and, unless base_url is set, the endpoint's region.</summary>
    public string Region { get; init; } = "";

    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    public string? SessionToken { get; init; }

    public string? RoleArn { get; init; }

    public string? WebIdentityTokenFile { get; init; }

    public string? RoleSessionName { get; init; }

    /// <summary>STS endpoint for web identity; the regional AWS endpoint when unset (tests point it at a fake).</summary>
    public Uri? StsEndpoint { get; init; }

    /// <summary>Reads and checks the fields; reports (field, reason) for each mistake when <paramref name="error"/> is given.</summary>
    public static BedrockSettings Read(ProviderSettings settings, Action<string, string>? error)
    {
        var e = settings.Extra;
        var result = new BedrockSettings
        {
            Region = e.GetValueOrDefault("region") ?? "",
            AccessKeyId = Blank(e.GetValueOrDefault("access_key_id")),
            SecretAccessKey = Blank(e.GetValueOrDefault("secret_access_key")),
            SessionToken = Blank(e.GetValueOrDefault("session_token")),
            RoleArn = Blank(e.GetValueOrDefault("role_arn")),
            WebIdentityTokenFile = Blank(e.GetValueOrDefault("web_identity_token_file")),
            RoleSessionName = Blank(e.GetValueOrDefault("role_session_name")),
        };
        if (error is null)
        {
            return e.TryGetValue("sts_endpoint", out var sts) && Uri.TryCreate(sts, UriKind.Absolute, out var stsUri) ? result with { StsEndpoint = stsUri } : result;
        }

        if (result.Region.Length == 0) error("region", "required: the AWS region of the Bedrock endpoint, e.g. us-east-1");
        else if (!RegionPattern().IsMatch(result.Region)) error("region", $"'{result.Region}' is not an AWS region name (like us-east-1)");
        if ((result.AccessKeyId is null) != (result.SecretAccessKey is null))
            error(result.AccessKeyId is null ? "access_key_id" : "secret_access_key", "access_key_id and secret_access_key go together");
        if (result.SessionToken is not null && result.AccessKeyId is null)
            error("session_token", "needs access_key_id and secret_access_key");
        if ((result.RoleArn is null) != (result.WebIdentityTokenFile is null))
            error(result.RoleArn is null ? "role_arn" : "web_identity_token_file", "role_arn and web_identity_token_file go together (web identity)");
        if (result.WebIdentityTokenFile is not null && !Path.IsPathRooted(result.WebIdentityTokenFile))
            error("web_identity_token_file", "must be an absolute path");
        if (result.RoleSessionName is not null && !SessionNamePattern().IsMatch(result.RoleSessionName))
            error("role_session_name", "2 to 64 characters from letters, digits and _+=,.@-");
        if (result.AccessKeyId is not null && result.RoleArn is not null)
            error("role_arn", "give either access keys or a web identity role, not both");
        if (!string.IsNullOrEmpty(settings.ApiKey) && (result.AccessKeyId is not null || result.RoleArn is not null))
            error("api_key", "a Bedrock API key replaces AWS credentials: give one or the other");
        if (e.TryGetValue("sts_endpoint", out var endpoint))
        {
            if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
                result = result with { StsEndpoint = uri };
            else error("sts_endpoint", $"'{endpoint}' is not an absolute http(s) URL");
        }
        return result;
    }

    private static string? Blank(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>STS's rule for role session names (the SDK refuses others before calling).</summary>
    internal static bool IsSessionName(string name) => SessionNamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex(@"^[\w+=,.@-]{2,64}$")]
    private static partial Regex SessionNamePattern();
}
