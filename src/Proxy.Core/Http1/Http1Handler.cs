using System.Collections.Concurrent;
using System.Net;
using Proxy.Pipeline;
using Proxy.Providers;

namespace Proxy.Http1;

/// <summary>
/// The gateway's own HTTP/1.1 client (plaintext, or TLS through SslStream), in place of SocketsHttpHandler for every
/// request that asks for HTTP/1.x: one serialized write per request, a head parser that allocates only header values,
/// pooled async state, and bodies read straight into the relay's memory. Requests that ask for HTTP/2 (https providers,
/// which negotiate it by ALPN) go to <paramref name="http2"/>, the SocketsHttpHandler they always used.
/// </summary>
internal sealed class Http1Handler(Http1Options options, HttpMessageHandler http2) : HttpMessageHandler
{
    private readonly HttpMessageInvoker _http2 = new(http2, disposeHandler: true);
    private readonly ConcurrentDictionary<(string Scheme, string Host, int Port), Http1Pool> _pools = new();
    private Http1Pool? _last; // One provider almost always has one origin: skip the dictionary.

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        if (!WantsHttp1(request) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return _http2.SendAsync(request, cancellationToken);
        return SendHttp1Async(request, Pool(uri), cancellationToken);
    }

    /// <summary>
    /// HTTP/1.1 asked for; or, on plain http, HTTP/2 merely allowed to fall back (SocketsHttpHandler never upgrades a
    /// plaintext connection to h2c either). HTTP/2 over TLS, and HTTP/1.0, stay with SocketsHttpHandler.
    /// </summary>
    private static bool WantsHttp1(HttpRequestMessage request)
    {
        var version = request.Version;
        if (version.Major == 1 && version.Minor == 1) return request.VersionPolicy != HttpVersionPolicy.RequestVersionOrHigher;
        return version.Major == 2 && request.VersionPolicy == HttpVersionPolicy.RequestVersionOrLower && request.RequestUri!.Scheme == Uri.UriSchemeHttp;
    }

    private Http1Pool Pool(Uri uri)
    {
        var last = _last;
        if (last is not null && last.Matches(uri)) return last;
        var pool = _pools.GetOrAdd((uri.Scheme, uri.IdnHost.ToLowerInvariant(), uri.Port), static (_, s) => new Http1Pool(s.uri, s.options), (uri, options));
        _last = pool;
        return pool;
    }

    private static async Task<HttpResponseMessage> SendHttp1Async(HttpRequestMessage request, Http1Pool pool, CancellationToken ct)
    {
        var connectTimeout = request.Options.TryGetValue(UpstreamTransport.ConnectTimeoutOption, out var t) ? t : pool.DefaultConnectTimeout;
        using var serialized = await Http1RequestWriter.SerializeAsync(request, pool.HostHeader, ct).ConfigureAwait(false);
        bool asksClose = request.Headers.ConnectionClose == true;
        while (true)
        {
            var connection = await pool.RentAsync(connectTimeout, ct).ConfigureAwait(false);
            try
            {
                await connection.SendAsync(serialized.Memory, ct).ConfigureAwait(false);
                return await connection.ReadResponseAsync(request, asksClose, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (connection.Reused && connection.NothingReceived && !ct.IsCancellationRequested && e is IOException or HttpRequestException)
            {
                // The server closed this kept-alive connection while it sat idle (its keep-alive timeout is shorter than
                // ours): nothing was processed, so the request goes again on a fresh connection, as browsers and
                // SocketsHttpHandler do. A connection that was new when it failed is a real failure.
                pool.Discard(connection);
            }
            catch
            {
                pool.Discard(connection);
                throw;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var pool in _pools.Values) pool.Dispose();
            _http2.Dispose();
        }
        base.Dispose(disposing);
    }
}
