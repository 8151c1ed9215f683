using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Proxy.Providers;

namespace Proxy.Http1;

/// <summary>
/// The keep-alive connections to one origin (scheme, host, port). Idle connections are reused most recently used
/// first, so a burst's extra connections age out while the hot ones stay warm; past <see cref="Http1Options.MaxConnections"/>
/// requests queue for the next free connection in arrival order instead of opening more.
/// </summary>
internal sealed class Http1Pool : IDisposable
{
    private readonly Http1Options _options;
    private readonly string _host;
    private readonly int _port;
    private readonly bool _tls;
    private readonly Stack<Http1Connection> _idle = new();
    private readonly Queue<Waiter> _waiters = new();
    private readonly Timer _scavenger;
    private int _open;
    private bool _disposed;

    public Http1Pool(Uri origin, Http1Options options)
    {
        _options = options;
        _host = origin.IdnHost;
        _port = origin.Port;
        _tls = origin.Scheme == Uri.UriSchemeHttps;
        Scheme = origin.Scheme;
        HostHeader = Encoding.ASCII.GetBytes(origin.IsDefaultPort ? origin.IdnHost : $"{origin.IdnHost}:{origin.Port}");
        var period = TimeSpan.FromTicks(Math.Max(options.IdleTimeout.Ticks / 2, TimeSpan.FromSeconds(1).Ticks));
        _scavenger = new Timer(static s => ((Http1Pool)s!).CloseStale(), this, period, period);
    }

    public string Scheme { get; }

    public TimeSpan DefaultConnectTimeout => _options.ConnectTimeout;

    /// <summary>The Host header for this origin, port included when it is not the scheme's default.</summary>
    public byte[] HostHeader { get; }

    public bool Matches(Uri uri) => uri.Port == _port && uri.Scheme == Scheme && string.Equals(uri.IdnHost, _host, StringComparison.OrdinalIgnoreCase);

    /// <summary>Connections open now, idle or busy (tests and metrics).</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    public int IdleConnections
    {
        get
        {
            lock (_idle) return _idle.Count;
        }
    }

    /// <summary>An idle connection, a new one, or (at the limit) the next one another request gives back.</summary>
    public ValueTask<Http1Connection> RentAsync(TimeSpan connectTimeout, CancellationToken ct)
    {
        Http1Connection? stale = null;
        Waiter? waiter = null;
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long now = Stopwatch.GetTimestamp();
            while (_idle.TryPop(out var idle))
            {
                if (Stopwatch.GetElapsedTime(idle.IdleSince, now) < _options.IdleTimeout) return new ValueTask<Http1Connection>(idle);
                // Older than the idle timeout: the server has likely closed it already. Close ours, oldest are below.
                _open--;
                stale = idle;
                foreach (var older in _idle) older.Dispose();
                _open -= _idle.Count;
                _idle.Clear();
                break;
            }
            if (_options.MaxConnections <= 0 || _open < _options.MaxConnections) _open++;
            else _waiters.Enqueue(waiter = new Waiter(ct));
        }
        stale?.Dispose();
        return waiter is null ? ConnectAsync(connectTimeout, ct) : WaitAsync(waiter, connectTimeout, ct);
    }

    private async ValueTask<Http1Connection> WaitAsync(Waiter waiter, TimeSpan connectTimeout, CancellationToken ct)
    {
        // Null: a slot freed up (a connection was closed), so this request opens its own.
        var connection = await waiter.Task.ConfigureAwait(false);
        return connection ?? await ConnectAsync(connectTimeout, ct).ConfigureAwait(false);
    }

    /// <summary>Takes a connection back after a complete answer: reused if it can be, closed if not.</summary>
    public void Return(Http1Connection connection)
    {
        if (!connection.CanReuse || Stopwatch.GetElapsedTime(connection.CreatedAt) > _options.ConnectionLifetime)
        {
            Discard(connection);
            return;
        }
        connection.ReturnBuffer();
        connection.IdleSince = Stopwatch.GetTimestamp();
        while (true)
        {
            Waiter? waiter = null;
            lock (_idle)
            {
                if (_disposed || !_waiters.TryDequeue(out waiter))
                {
                    if (!_disposed)
                    {
                        _idle.Push(connection);
                        return;
                    }
                    _open--;
                }
            }
            if (waiter is null)
            {
                connection.Dispose();
                return;
            }
            if (waiter.TrySetResult(connection)) return;
            // That request gave up waiting; offer it to the next.
        }
    }

    /// <summary>Closes a connection that failed or cannot be reused, freeing its slot for a waiting request.</summary>
    public void Discard(Http1Connection connection)
    {
        connection.Dispose();
        Released();
    }

    private void Released()
    {
        while (true)
        {
            Waiter? waiter;
            lock (_idle)
            {
                if (!_waiters.TryDequeue(out waiter))
                {
                    _open--;
                    return;
                }
            }
            // The slot passes to the waiter, which opens a connection in it (the count stays).
            if (waiter.TrySetResult(null)) return;
        }
    }

    private async ValueTask<Http1Connection> ConnectAsync(TimeSpan timeout, CancellationToken ct)
    {
        Socket? socket = null;
        try
        {
            socket = await UpstreamTransport.ConnectSocketAsync(new DnsEndPoint(_host, _port), timeout, ct).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (_tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                try
                {
                    // The handshake shares the connect timeout, as SocketsHttpHandler's ConnectTimeout covers TCP and TLS.
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    deadline.CancelAfter(timeout);
                    await ssl.AuthenticateAsClientAsync(_options.TlsFor(_host), deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await ssl.DisposeAsync().ConfigureAwait(false);
                    throw new ConnectTimeoutException(_host, timeout);
                }
                catch
                {
                    await ssl.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            return new Http1Connection(socket, stream, this);
        }
        catch (Exception e)
        {
            socket?.Dispose();
            Released();
            throw e switch
            {
                OperationCanceledException => e,
                ConnectTimeoutException => new HttpRequestException(HttpRequestError.ConnectionError, e.Message, e),
                SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } se =>
                    new HttpRequestException(HttpRequestError.NameResolutionError, $"{se.Message} ({_host}:{_port})", se),
                SocketException se => new HttpRequestException(HttpRequestError.ConnectionError, $"{se.Message} ({_host}:{_port})", se),
                AuthenticationException => new HttpRequestException(HttpRequestError.SecureConnectionError, $"The TLS handshake with {_host}:{_port} failed: {e.Message}", e),
                _ => new HttpRequestException(HttpRequestError.ConnectionError, $"Connecting to {_host}:{_port} failed: {e.Message}", e),
            };
        }
    }

    /// <summary>Closes connections idle past the idle timeout, so a burst's leftovers do not hold descriptors the server already dropped.</summary>
    private void CloseStale()
    {
        var stale = new List<Http1Connection>();
        lock (_idle)
        {
            // Most recently used on top: the stale ones are a run at the bottom. Keep the fresh, in their order.
            long now = Stopwatch.GetTimestamp();
            var fresh = _idle.Where(c => Stopwatch.GetElapsedTime(c.IdleSince, now) < _options.IdleTimeout).ToList();
            if (fresh.Count == _idle.Count) return;
            stale.AddRange(_idle.Except(fresh));
            _idle.Clear();
            for (int i = fresh.Count - 1; i >= 0; i--) _idle.Push(fresh[i]);
            _open -= stale.Count;
        }
        foreach (var c in stale) c.Dispose();
    }

    public void Dispose()
    {
        Http1Connection[] idle;
        lock (_idle)
        {
            if (_disposed) return;
            _disposed = true;
            idle = _idle.ToArray();
            _open -= idle.Length;
            _idle.Clear();
        }
        _scavenger.Dispose();
        foreach (var c in idle) c.Dispose();
    }

    /// <summary>A request queued at the connection limit; its own cancellation takes it out of the line.</summary>
    private sealed class Waiter : TaskCompletionSource<Http1Connection?>
    {
        private readonly CancellationTokenRegistration _registration;

        public Waiter(CancellationToken ct) : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            if (ct.CanBeCanceled) _registration = ct.UnsafeRegister(static (s, t) => ((Waiter)s!).TrySetCanceled(t), this);
        }

        public new bool TrySetResult(Http1Connection? connection)
        {
            _registration.Dispose();
            return base.TrySetResult(connection);
        }
    }
}
