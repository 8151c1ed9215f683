namespace Proxy.Credentials;

/// <summary>An app registration's client credentials.</summary>
public sealed record ClientSecretOptions
{
    public required string TenantId { get; init; }

    public required string ClientId { get; init; }

    public required string ClientSecret { get; init; }

    /// <summary>e.g. <c>https://cognitiveservices.azure.com/.default</c>.</summary>
    public required string Scope { get; init; }

    /// <summary>Microsoft Entra authority host; other clouds (login.microsoftonline.us) and tests override it.</summary>
    public string Authority { get; init; } = ClientSecretTokenSource.PublicCloudAuthority;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    // Never print the secret: records print every member by default.
    public override string ToString() => $"tenant={TenantId} client={ClientId} scope={Scope} authority={Authority}";
}

/// <summary>
/// Microsoft Entra ID tokens by the OAuth 2.0 client credentials grant:
/// <c>POST {authority}/{tenant}/oauth2/v2.0/token</c> with <c>grant_type=client_credentials</c>, client id, secret and scope.
/// </summary>
public sealed class ClientSecretTokenSource : CachedTokenSource
{
    public const string PublicCloudAuthority = "https://login.microsoftonline.com";

    private readonly HttpMessageInvoker _http;
    private readonly ClientSecretOptions _options;
    private readonly Uri _tokenUri;

    public ClientSecretTokenSource(HttpMessageInvoker http, ClientSecretOptions options, TimeProvider time) : base(time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        _tokenUri = new Uri(options.Authority.TrimEnd('/') + "/" + Uri.EscapeDataString(options.TenantId) + "/oauth2/v2.0/token");
        Endpoint = _tokenUri.ToString();
    }

    public override string Endpoint { get; }

    protected override async Task<AccessToken> FetchAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _tokenUri)
        {
            Content = new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"),
                new("client_id", _options.ClientId),
                new("client_secret", _options.ClientSecret),
                new("scope", _options.Scope),
            ]),
        };
        return await EntraTokenResponse.SendAsync(_http, request, "client secret", Endpoint, _options.Timeout, Time, ct).ConfigureAwait(false);
    }
}
