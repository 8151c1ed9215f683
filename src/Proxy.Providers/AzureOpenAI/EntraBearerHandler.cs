using Proxy.Credentials;

namespace Proxy.Providers.AzureOpenAI;

/// <summary>
/// Puts a Microsoft Entra ID bearer token on every upstream request, from a cached source that refreshes it before
/// it expires (one refresh at a time). The token never reaches a log: a failure names the token endpoint only.
/// Owns the token source and its HTTP client.
/// </summary>
internal sealed class EntraBearerHandler(CachedTokenSource tokens, HttpMessageInvoker tokenClient, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private volatile Authorization? _last;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string token;
        try
        {
            token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Reported by the relay as a 502 naming the provider; the message names the token endpoint and its answer.
            throw new HttpRequestException($"no Microsoft Entra ID token for it ({e.Message})", e);
        }
        // The header string is rebuilt only when the token changes (about once an hour), not per request.
        var last = _last;
        if (last is null || !ReferenceEquals(last.Token, token)) _last = last = new Authorization(token, "Bearer " + token);
        request.Headers.TryAddWithoutValidation("Authorization", last.Header);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Entra ID tokens are fetched asynchronously; use SendAsync.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            tokens.Dispose();
            tokenClient.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed record Authorization(string Token, string Header)
    {
        public override string ToString() => "Authorization(Bearer ***)";
    }
}
