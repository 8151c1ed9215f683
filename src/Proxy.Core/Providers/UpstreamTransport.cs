using System.Net;
using System.Net.Security;
using Proxy.Config;

namespace Proxy.Providers;

/// <summary>
/// The connection pool for one provider, set up for a proxy (as YARP's ForwarderHttpClientFactory does):
/// no redirects, no cookies, no decompression (bytes pass through as sent), no ambient proxy, TLS verified.
/// </summary>
public static class UpstreamTransport
{
    public static HttpMessageInvoker Create(ProviderSettings settings) => new(CreateHandler(settings), disposeHandler: true);

    /// <summary>
    /// The bare handler, for adapters that put their own step in front of it (a DelegatingHandler that signs the
    /// request or adds a refreshed token) before wrapping both in an invoker.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(ProviderSettings settings)
    {
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = settings.HttpProxy is not null,
            Proxy = settings.HttpProxy is null ? null : new WebProxy(settings.HttpProxy),
            ConnectTimeout = settings.ConnectTimeout,
            MaxConnectionsPerServer = settings.MaxConnections > 0 ? settings.MaxConnections : int.MaxValue,
            // Recycle connections so DNS changes (failover, scaled endpoints) are seen within minutes.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            EnableMultipleHttp2Connections = true,
            // Tracing headers are the gateway's decision (issue 5), not the handler's.
            ActivityHeadersPropagator = null,
            SslOptions = new SslClientAuthenticationOptions
            {
                // Default validation stays on: upstream certificates are always verified.
                ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            },
        };
    }

    /// <summary>HTTP/2 where TLS lets the provider choose it, HTTP/1.1 on plain http (no h2c guessing).</summary>
    public static void SetVersion(HttpRequestMessage request, Uri baseUrl)
    {
        if (baseUrl.Scheme == Uri.UriSchemeHttps)
        {
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        }
        else
        {
            request.Version = HttpVersion.Version11;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
    }
}
