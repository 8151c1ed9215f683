namespace Proxy.Providers.Google;

/// <summary>
/// Access tokens for a service account: a JWT signed with the key's private key, exchanged at the key's token_uri
/// (<c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c>). The key file is read again at every refresh, so a
/// rotated key (a Kubernetes secret updated in place) is picked up without a restart.
/// </summary>
public sealed class ServiceAccountTokenSource(string keyFile, string scope, HttpMessageInvoker http, TimeProvider time) : AccessTokenSource(time)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public override string Describe() => $"the service account key {keyFile}";

    protected override async Task<AccessToken> FetchAsync(CancellationToken ct)
    {
        var key = ServiceAccountKey.Load(keyFile);
        var now = Time.GetUtcNow();
        var assertion = ServiceAccountJwt.Create(key, scope, now);
        using var request = new HttpRequestMessage(HttpMethod.Post, key.TokenUri)
        {
            Content = new FormUrlEncodedContent(
            [
                new("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                new("assertion", assertion),
            ]),
        };
        var where = $"the token endpoint {key.TokenUri.GetLeftPart(UriPartial.Path)} ({key})";
        var body = await TokenHttp.SendAsync(http, request, where, RequestTimeout, ct).ConfigureAwait(false);
        var (token, lifetime) = TokenResponse.Parse(body, where);
        return Expiring(token, now, lifetime);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) http.Dispose();
        base.Dispose(disposing);
    }
}
