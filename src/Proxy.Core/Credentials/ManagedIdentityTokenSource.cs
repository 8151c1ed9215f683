namespace Proxy.Credentials;

/// <summary>Where and for what a managed identity token is asked.</summary>
public sealed record ManagedIdentityOptions
{
    /// <summary>The token audience, e.g. <c>https://cognitiveservices.azure.com</c> or <c>https://storage.azure.com/</c>.</summary>
    public required string Resource { get; init; }

    /// <summary>Client id of a user-assigned identity; null for the system-assigned one.</summary>
    public string? ClientId { get; init; }

    /// <summary>Token endpoint override (tests, proxies); null: IDENTITY_ENDPOINT, else IMDS.</summary>
    public string? Endpoint { get; init; }

    /// <summary>With <see cref="Endpoint"/>: the App Service / Container Apps secret; null: IMDS style.</summary>
    public string? IdentityHeader { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Microsoft Entra ID tokens from the managed identity endpoint: IMDS on VMs and AKS
/// (<c>GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&amp;resource=...</c>, header
/// <c>Metadata: true</c>) or, on App Service, Container Apps and Functions, <c>IDENTITY_ENDPOINT</c> with header
/// <c>X-IDENTITY-HEADER: $IDENTITY_HEADER</c> and api-version 2019-08-01.
/// </summary>
public sealed class ManagedIdentityTokenSource : CachedTokenSource
{
    public const string ImdsEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token";

    private readonly HttpMessageInvoker _http;
    private readonly string? _identityHeader;
    private readonly TimeSpan _timeout;

    public ManagedIdentityTokenSource(HttpMessageInvoker http, ManagedIdentityOptions options, TimeProvider time)
        : this(http, options, time, Environment.GetEnvironmentVariable)
    {
    }

    /// <summary><paramref name="environment"/> reads IDENTITY_ENDPOINT / IDENTITY_HEADER (tests pass their own).</summary>
    internal ManagedIdentityTokenSource(HttpMessageInvoker http, ManagedIdentityOptions options, TimeProvider time, Func<string, string?> environment)
        : base(time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _timeout = options.Timeout;
        string endpoint;
        if (!string.IsNullOrEmpty(options.Endpoint))
        {
            endpoint = options.Endpoint;
            _identityHeader = string.IsNullOrEmpty(options.IdentityHeader) ? null : options.IdentityHeader;
        }
        else if (environment("IDENTITY_ENDPOINT") is { Length: > 0 } envEndpoint && environment("IDENTITY_HEADER") is { Length: > 0 } envHeader)
        {
            endpoint = envEndpoint;
            _identityHeader = envHeader;
        }
        else
        {
            endpoint = ImdsEndpoint;
        }

        var query = (_identityHeader is null ? "api-version=2018-02-01" : "api-version=2019-08-01")
            + "&resource=" + Uri.EscapeDataString(options.Resource)
            + (string.IsNullOrEmpty(options.ClientId) ? "" : "&client_id=" + Uri.EscapeDataString(options.ClientId));
        TokenUri = new Uri(endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query);
        Endpoint = TokenUri.GetLeftPart(UriPartial.Path);
    }

    public Uri TokenUri { get; }

    public override string Endpoint { get; }

    protected override async Task<AccessToken> FetchAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenUri);
        if (_identityHeader is null) request.Headers.TryAddWithoutValidation("Metadata", "true");
        else request.Headers.TryAddWithoutValidation("X-IDENTITY-HEADER", _identityHeader);
        return await EntraTokenResponse.SendAsync(_http, request, "managed identity", Endpoint, _timeout, Time, ct).ConfigureAwait(false);
    }
}
