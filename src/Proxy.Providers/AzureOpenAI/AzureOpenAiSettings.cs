using Proxy.Config;
using Proxy.Credentials;

namespace Proxy.Providers.AzureOpenAI;

/// <summary>How the gateway authenticates to an Azure OpenAI resource.</summary>
public enum AzureAuth
{
    /// <summary>The resource key, sent as <c>api-key</c>.</summary>
    ApiKey,

    /// <summary>A Microsoft Entra ID token from the managed identity endpoint (IMDS, or IDENTITY_ENDPOINT).</summary>
    ManagedIdentity,

    /// <summary>A Microsoft Entra ID token for an app registration's client id and secret.</summary>
    ClientSecret,
}

/// <summary>The fields only the <c>azure-openai</c> type has, read from the provider's config.</summary>
public sealed record AzureOpenAiSettings
{
    /// <summary>
    /// The newest GA version of the deployments-style inference API in the Azure OpenAI REST reference ("latest GA
    /// release" of the data plane inference API). Newer features need a preview version or the v1 API (api_version: v1).
    /// </summary>
    public const string DefaultApiVersion = "2024-10-21";

    public const string DefaultScope = "https://cognitiveservices.azure.com/.default";

    public static readonly IReadOnlyCollection<string> Fields =
        ["api_version", "managed_identity", "client_id", "tenant_id", "client_secret", "authority", "identity_endpoint", "identity_header", "entra_scope"];

    public string ApiVersion { get; init; } = DefaultApiVersion;

    /// <summary>
    /// api_version "v1" (GA) or "preview": the v1 API, <c>{endpoint}/openai/v1/...</c> with the model in the body and
    /// no dated version; otherwise deployment URLs with <c>?api-version=</c>.
    /// </summary>
    public bool UsesV1Api => ApiVersion is "v1" or "preview";

    public AzureAuth Auth { get; init; } = AzureAuth.ApiKey;

    /// <summary>A user-assigned managed identity's client id, or the app registration's (client secret).</summary>
    public string? ClientId { get; init; }

    public string? TenantId { get; init; }

    public string? ClientSecret { get; init; }

    /// <summary>Microsoft Entra authority host for the client secret flow (other clouds, tests).</summary>
    public string Authority { get; init; } = ClientSecretTokenSource.PublicCloudAuthority;

    /// <summary>Managed identity endpoint override (tests, sidecars); null: IDENTITY_ENDPOINT, else IMDS.</summary>
    public string? IdentityEndpoint { get; init; }

    /// <summary>With <see cref="IdentityEndpoint"/>: the X-IDENTITY-HEADER secret (App Service style).</summary>
    public string? IdentityHeader { get; init; }

    /// <summary>Token scope; the managed identity endpoint is asked for the same audience without "/.default".</summary>
    public string Scope { get; init; } = DefaultScope;

    public string Resource => Scope.EndsWith("/.default", StringComparison.Ordinal) ? Scope[..^"/.default".Length] : Scope;

    // Never print the secrets: records print every member by default.
    public override string ToString() => $"api_version={ApiVersion} auth={Auth}";

    public static AzureOpenAiSettings Read(ProviderSettings settings, Action<string, string>? error)
    {
        var x = settings.Extra;
        var result = new AzureOpenAiSettings();
        if (x.TryGetValue("api_version", out var version))
        {
            if (string.IsNullOrWhiteSpace(version) || version.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
                error?.Invoke("api_version", $"'{version}' is not an API version (like {DefaultApiVersion}, 2025-04-01-preview, or v1)");
            else result = result with { ApiVersion = version };
        }

        bool managed = false;
        if (x.TryGetValue("managed_identity", out var mi))
        {
            if (mi is "true" or "false") managed = mi == "true";
            else error?.Invoke("managed_identity", $"'{mi}' is not true or false");
        }
        bool secret = x.ContainsKey("client_secret");
        bool key = !string.IsNullOrEmpty(settings.ApiKey);
        int modes = (key ? 1 : 0) + (managed ? 1 : 0) + (secret ? 1 : 0);
        if (modes != 1)
            error?.Invoke(modes == 0 ? "api_key" : "managed_identity",
                "give exactly one way to authenticate: api_key, managed_identity: true, or client_secret with tenant_id and client_id");
        if (secret && (!x.ContainsKey("tenant_id") || !x.ContainsKey("client_id")))
            error?.Invoke("client_secret", "needs tenant_id and client_id (the app registration's)");
        if (!secret && x.ContainsKey("tenant_id")) error?.Invoke("tenant_id", "only used with client_secret");
        if (!secret && x.ContainsKey("authority")) error?.Invoke("authority", "only used with client_secret");
        if (!managed && (x.ContainsKey("identity_endpoint") || x.ContainsKey("identity_header")))
            error?.Invoke(x.ContainsKey("identity_endpoint") ? "identity_endpoint" : "identity_header", "only used with managed_identity: true");
        if (x.ContainsKey("client_id") && !managed && !secret) error?.Invoke("client_id", "only used with managed_identity or client_secret");
        if (x.ContainsKey("identity_header") && !x.ContainsKey("identity_endpoint")) error?.Invoke("identity_header", "needs identity_endpoint");
        foreach (var url in (ReadOnlySpan<string>)["authority", "identity_endpoint", "entra_scope"])
        {
            if (x.TryGetValue(url, out var u) && !(Uri.TryCreate(u, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
                error?.Invoke(url, $"'{u}' is not an absolute http(s) URL");
        }

        return result with
        {
            Auth = managed ? AzureAuth.ManagedIdentity : secret ? AzureAuth.ClientSecret : AzureAuth.ApiKey,
            ClientId = x.GetValueOrDefault("client_id"),
            TenantId = x.GetValueOrDefault("tenant_id"),
            ClientSecret = x.GetValueOrDefault("client_secret"),
            Authority = x.GetValueOrDefault("authority") ?? ClientSecretTokenSource.PublicCloudAuthority,
            IdentityEndpoint = x.GetValueOrDefault("identity_endpoint"),
            IdentityHeader = x.GetValueOrDefault("identity_header"),
            Scope = x.GetValueOrDefault("entra_scope") ?? DefaultScope,
        };
    }
}
