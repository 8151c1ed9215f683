namespace Proxy.Providers.Google;

/// <summary>
/// Access tokens of the attached service account from the GCE/GKE metadata server:
/// <c>GET http://{host}/computeMetadata/v1/instance/service-accounts/default/token</c> with <c>Metadata-Flavor: Google</c>.
/// On GKE with Workload Identity the same endpoint serves the Kubernetes service account's bound Google identity.
/// </summary>
public sealed class MetadataServerTokenSource : AccessTokenSource
{
    public const string DefaultHost = "metadata.google.internal";

    /// <summary>The variable Google's client libraries read to point at another metadata server (an emulator, a test).</summary>
    public const string HostVariable = "GCE_METADATA_HOST";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly HttpMessageInvoker _http;

    public MetadataServerTokenSource(string host, HttpMessageInvoker http, TimeProvider time) : base(time)
    {
        _http = http;
        TokenUri = new Uri($"http://{host}/computeMetadata/v1/instance/service-accounts/default/token");
    }

    public Uri TokenUri { get; }

    /// <summary>The configured host, else $GCE_METADATA_HOST, else metadata.google.internal.</summary>
    public static string ResolveHost(string? configured, Func<string, string?> environment) =>
        !string.IsNullOrEmpty(configured) ? configured
        : environment(HostVariable) is { Length: > 0 } fromEnv ? fromEnv
        : DefaultHost;

    public override string Describe() => $"the metadata server {TokenUri.GetLeftPart(UriPartial.Authority)}";

    protected override async Task<AccessToken> FetchAsync(CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenUri);
        request.Headers.TryAddWithoutValidation("Metadata-Flavor", "Google");
        var body = await TokenHttp.SendAsync(_http, request, Describe(), RequestTimeout, ct).ConfigureAwait(false);
        var (token, lifetime) = TokenResponse.Parse(body, Describe());
        return Expiring(token, now, lifetime);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _http.Dispose();
        base.Dispose(disposing);
    }
}
