using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Proxy.Config;
using Proxy.Http1;

namespace Proxy.Providers;

/// <summary>
/// The connection pool for one provider, set up for a proxy (as YARP's ForwarderHttpClientFactory does):
/// no redirects, no cookies, no decompression (bytes pass through as sent), no ambient proxy, TLS verified.
/// HTTP/1.1 goes through the gateway's own client (<see cref="Http1Handler"/>), HTTP/2 through SocketsHttpHandler.
/// </summary>
public static class UpstreamTransport
{
    public static HttpMessageInvoker Create(ProviderSettings settings) => new(CreateHandler(settings), disposeHandler: true);

    /// <summary>
    /// The bare handler, for adapters that put their own step in front of it (a DelegatingHandler that signs the
    /// request or adds a refreshed token) before wrapping both in an invoker.
    /// </summary>
    public static HttpMessageHandler CreateHandler(ProviderSettings settings)
    {
        var sockets = CreateSocketsHandler(settings);
        // Through an HTTP proxy, SocketsHttpHandler does it all (CONNECT tunnels, proxy auth); otherwise HTTP/1.1 is ours.
        if (settings.HttpProxy is not null) return sockets;
        return new Http1Handler(new Http1Options { ConnectTimeout = settings.ConnectTimeout, MaxConnections = settings.MaxConnections }, sockets);
    }

    /// <summary>SocketsHttpHandler, for HTTP/2 (TLS providers negotiate it) and for providers reached through a proxy.</summary>
    private static SocketsHttpHandler CreateSocketsHandler(ProviderSettings settings)
    {
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = settings.HttpProxy is not null,
            Proxy = settings.HttpProxy is null ? null : new WebProxy(settings.HttpProxy),
            // TCP + TLS, as before routes could override it; a route's or target's connect timeout shortens the TCP connect
            // of a request that opens a connection (ConnectAsync), and this stays the ceiling.
            ConnectTimeout = settings.ConnectTimeout,
            ConnectCallback = ConnectAsync,
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

    internal static readonly HttpRequestOptionsKey<TimeSpan> ConnectTimeoutOption = new("llm-gateway.connect-timeout");

    /// <summary>Asks for another connect timeout than the provider's, for a connection this request has to open.</summary>
    public static void SetConnectTimeout(HttpRequestMessage request, TimeSpan timeout) => request.Options.Set(ConnectTimeoutOption, timeout);

    /// <summary>
    /// What SocketsHttpHandler does by default (a dual-mode TCP socket, Nagle off, connect to the host or the proxy),
    /// with the connect timeout of the request that opens the connection when it set one.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        TimeSpan? timeout = context.InitialRequestMessage.Options.TryGetValue(ConnectTimeoutOption, out var t) ? t : null;
        var socket = await ConnectSocketAsync(context.DnsEndPoint, timeout, ct).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// A connected TCP socket (dual-mode, so IPv4 and IPv6 alike; Nagle off), for both upstream clients. Past
    /// <paramref name="timeout"/> it throws <see cref="ConnectTimeoutException"/>, so an expired connect is never taken
    /// for a first byte timeout; <paramref name="ct"/> cancels as is.
    /// </summary>
    internal static async ValueTask<Socket> ConnectSocketAsync(DnsEndPoint endpoint, TimeSpan? timeout, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timer = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer?.CancelAfter(timeout!.Value);
        try
        {
            await socket.ConnectAsync(endpoint, timer?.Token ?? ct).ConfigureAwait(false);
            return socket;
        }
        catch (OperationCanceledException) when (timer is not null && !ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ConnectTimeoutException(endpoint.Host, timeout!.Value);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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

/// <summary>A TCP (or proxy) connect that did not finish within its connect timeout.</summary>
public sealed class ConnectTimeoutException : TimeoutException
{
    public ConnectTimeoutException(string host, TimeSpan timeout)
        : base($"Connecting to {host} took longer than {timeout.TotalSeconds:0.###}s (connect timeout).") => Timeout = timeout;

    public ConnectTimeoutException()
    {
    }

    public ConnectTimeoutException(string message) : base(message)
    {
    }

    public ConnectTimeoutException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public TimeSpan Timeout { get; }
}
