using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>An upstream below HTTP: accepts connections, waits for the request head, writes raw bytes (or nothing) and hangs up.</summary>
public sealed class RawTcpUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));
    private readonly Task _loop;

    public RawTcpUpstream(string reply)
    {
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/v1";
        _loop = AcceptLoopAsync(Encoding.ASCII.GetBytes(reply));
    }

    public string BaseUrl { get; }

    private async Task AcceptLoopAsync(byte[] reply)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                var buffer = new byte[8192];
                // The request head (the body may follow; it is never answered properly anyway).
                _ = await stream.ReadAsync(buffer, _stop.Token);
                if (reply.Length > 0) await stream.WriteAsync(reply, _stop.Token);
                client.Client.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
