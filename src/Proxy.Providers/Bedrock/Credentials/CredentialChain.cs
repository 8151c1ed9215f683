using Amazon.Runtime;

namespace Proxy.Providers.Bedrock.Credentials;

/// <summary>
/// Picks where a bedrock provider's credentials come from, in this order (the AWS SDKs' order, minus profile files
/// and instance metadata): keys in the config; a web identity role in the config; AWS_ACCESS_KEY_ID /
/// AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]; AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]
/// (EKS IRSA); AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (ECS task roles, EKS Pod Identity).
/// </summary>
public static class CredentialChain
{
    public const string DefaultSessionName = "llm-gateway";

    /// <summary>What <see cref="Create"/> would use, or null with <paramref name="missing"/> saying why there is nothing.</summary>
    public static string? Describe(BedrockSettings settings, Func<string, string?> env, out string? missing)
    {
        missing = null;
        if (settings.AccessKeyId is not null) return settings.SessionToken is null ? "static keys from the config" : "session keys from the config";
        if (settings.RoleArn is not null)
        {
            if (settings.RoleSessionName is null && Env(env, "AWS_ROLE_SESSION_NAME") is { } name && !BedrockSettings.IsSessionName(name))
            {
                missing = "AWS_ROLE_SESSION_NAME must be 2 to 64 characters from letters, digits and _+=,.@-";
                return null;
            }
            return $"web identity from the config (role {settings.RoleArn})";
        }
        if (Env(env, "AWS_ACCESS_KEY_ID") is not null)
        {
            if (Env(env, "AWS_SECRET_ACCESS_KEY") is null)
            {
                missing = "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not";
                return null;
            }
            return Env(env, "AWS_SESSION_TOKEN") is null ? "static keys from the environment" : "session keys from the environment";
        }
        if (Env(env, "AWS_WEB_IDENTITY_TOKEN_FILE") is { } file)
        {
            if (Env(env, "AWS_ROLE_ARN") is not { } role)
            {
                missing = "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not";
                return null;
            }
            if (!Path.IsPathRooted(file))
            {
                missing = "AWS_WEB_IDENTITY_TOKEN_FILE must be an absolute path";
                return null;
            }
            if (settings.RoleSessionName is null && Env(env, "AWS_ROLE_SESSION_NAME") is { } name && !BedrockSettings.IsSessionName(name))
            {
                missing = "AWS_ROLE_SESSION_NAME must be 2 to 64 characters from letters, digits and _+=,.@-";
                return null;
            }
            return $"web identity from the environment (role {role})";
        }
        if (Env(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") is not null) return "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)";
        if (Env(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") is { } full)
        {
            if (!Uri.TryCreate(full, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && !uri.IsLoopback
                    && uri.Host is not ("169.254.170.2" or "169.254.170.23" or "[fd00:ec2::23]")))
            {
                missing = "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, loopback, or the ECS/EKS container host";
                return null;
            }
            return "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)";
        }
        missing = "no AWS credentials: set access_key_id and secret_access_key (or role_arn and web_identity_token_file), or run with " +
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN (EKS IRSA) or " +
            "AWS_CONTAINER_CREDENTIALS_* (ECS, EKS Pod Identity) in the environment, or give api_key (a Bedrock API key)";
        return null;
    }

    /// <summary>Builds the source <see cref="Describe"/> names; throws when there is none (the config check reports it first).</summary>
    public static IAwsCredentialSource Create(BedrockSettings settings, Func<string, string?> env, Uri? proxy)
    {
        var description = Describe(settings, env, out var missing) ?? throw new InvalidOperationException(missing);
        if (settings.AccessKeyId is not null)
            return new StaticCredentialSource(new AwsCredentials(settings.AccessKeyId, settings.SecretAccessKey!, settings.SessionToken), description);
        if (settings.RoleArn is not null)
            return WebIdentity(settings.WebIdentityTokenFile!, settings.RoleArn, settings.RoleSessionName ?? Env(env, "AWS_ROLE_SESSION_NAME"), settings, proxy, description);
        if (Env(env, "AWS_ACCESS_KEY_ID") is { } id)
            return new StaticCredentialSource(new AwsCredentials(id, Env(env, "AWS_SECRET_ACCESS_KEY")!, Env(env, "AWS_SESSION_TOKEN")), description);
        if (Env(env, "AWS_WEB_IDENTITY_TOKEN_FILE") is { } file)
            return WebIdentity(file, Env(env, "AWS_ROLE_ARN")!, settings.RoleSessionName ?? Env(env, "AWS_ROLE_SESSION_NAME"), settings, proxy, description);
        // The SDK reads the container variables itself, and the authorization token file at every refresh (Pod Identity rotates it).
        return new RefreshingCredentialSource(new GenericContainerCredentials(), description);
    }

    private static RefreshingCredentialSource WebIdentity(string file, string role, string? sessionName, BedrockSettings settings, Uri? proxy, string description) =>
        new(new WebIdentityCredentials(file, role, sessionName ?? DefaultSessionName, settings.Region, settings.StsEndpoint, proxy), description);

    private static string? Env(Func<string, string?> env, string name) => env(name) is { Length: > 0 } value ? value : null;
}
