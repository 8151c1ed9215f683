using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proxy.Metrics;
using Proxy.Pipeline;

namespace Proxy.Host.Runtime;

/// <summary>
/// Kestrel's socket transport with one change: an accept that fails because the process (or the system) is out of
/// file descriptors backs off, 5 ms doubling to 1 s as Go's HTTP server does, and is counted and logged (one line per
/// interval). Kestrel's own listener takes every accept error for a connection reset in the backlog and accepts again
/// at once: at EMFILE that loop spins a core at 100% with nothing logged above debug, starving the requests whose end
/// would free descriptors. The waiting connections stay in the kernel's backlog and are accepted when a descriptor
/// frees. Connections are made by Kestrel's own <see cref="SocketConnectionContextFactory"/>, with the options
/// <c>UseSockets</c> configured, so everything after the accept is Kestrel's as before.
/// </summary>
internal sealed partial class GuardedSocketTransport(IOptions<SocketTransportOptions> options, GatewayMetrics metrics, ILoggerFactory loggers)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger = loggers.CreateLogger<GuardedSocketTransport>();
    private readonly LogThrottle _throttle = new(TimeProvider.System, TimeSpan.FromSeconds(10));
    private int _bound;

    /// <summary>Listeners bound through this transport (tests check that Kestrel uses it).</summary>
    public int Bound => Volatile.Read(ref _bound);

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint or UnixDomainSocketEndPoint or FileHandleEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        Socket socket;
        try
        {
            socket = o.CreateBoundListenSocket(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }
        socket.Listen(o.Backlog);
        var factory = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions
        {
            IOQueueCount = o.IOQueueCount,
            WaitForDataBeforeAllocatingBuffer = o.WaitForDataBeforeAllocatingBuffer,
            MaxReadBufferSize = o.MaxReadBufferSize,
            MaxWriteBufferSize = o.MaxWriteBufferSize,
            UnsafePreferInlineScheduling = o.UnsafePreferInlineScheduling,
        }, loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        Interlocked.Increment(ref _bound);
        return new(new Listener(this, socket, factory, o.NoDelay));
    }

    private void OnOutOfDescriptors(EndPoint endpoint, TimeSpan retryIn)
    {
        metrics.Exhausted(ResourceOperation.Accept);
        if (_logger.IsEnabled(LogLevel.Error) && _throttle.ShouldWrite(1, endpoint.ToString() ?? "", "", out var suppressed))
            LogAcceptFailed(_logger, endpoint.ToString() ?? "", (long)retryIn.TotalMilliseconds, LogThrottle.Repeats(suppressed));
    }

    // Not the exception's text: the runtime words EMFILE (this process at its limit) as "Too many open files in system".
    [LoggerMessage(20, LogLevel.Error,
        "Accepting connections on {Endpoint} failed: the gateway is out of file descriptors (EMFILE/ENFILE); trying again in {DelayMs} ms, " +
        "connections wait in the backlog. Lower server.max_concurrent_requests or raise the open-file limit{Repeats}")]
    private static partial void LogAcceptFailed(ILogger logger, string endpoint, long delayMs, string repeats);

    private sealed class Listener(GuardedSocketTransport transport, Socket socket, SocketConnectionContextFactory factory, bool noDelay) : IConnectionListener
    {
        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            var backoff = TimeSpan.Zero;
            while (true)
            {
                try
                {
                    var accepted = await socket.AcceptAsync(cancellationToken);
                    if (accepted.LocalEndPoint is IPEndPoint) accepted.NoDelay = noDelay;
                    return factory.Create(accepted);
                }
                catch (ObjectDisposedException)
                {
                    return null; // unbound: Kestrel is stopping
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return null;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TooManyOpenSockets)
                {
                    backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                    transport.OnOutOfDescriptors(EndPoint, backoff);
                    try
                    {
                        await Task.Delay(backoff, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        return null;
                    }
                }
                catch (SocketException)
                {
                    // A connection reset while it waited in the backlog: the next one is accepted at once, as Kestrel does.
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return default;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            factory.Dispose();
            return default;
        }
    }
}
