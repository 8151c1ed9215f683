using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Proxy.Core.Tests.Http1;

/// <summary>
/// A TCP server that speaks whatever bytes a test scripts, so the client meets exactly the framing, splits, closes and
/// mistakes a test names (a real HTTP server would never send most of them). Optionally TLS with a self-signed cert.
/// </summary>
internal sealed class RawServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<Connection, Task> _serve;
    private readonly X509Certificate2? _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private int _accepted;

    public RawServer(Func<Connection, Task> serve, bool tls = false)
    {
        _serve = serve;
        if (tls) _certificate = SelfSigned();
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Url(string path = "/v1/chat/completions") => new($"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}{path}");

    public int Accepted => Volatile.Read(ref _accepted);

    public X509Certificate2? Certificate => _certificate;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            lock (_connections) _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            Stream stream = client.GetStream();
            try
            {
                if (_certificate is not null)
                {
                    var ssl = new SslStream(stream);
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _certificate,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    }, _stop.Token);
                    stream = ssl;
                }
                await _serve(new Connection(stream));
            }
            catch
            {
                // The client went away or the script ended the connection: nothing to report here.
            }
            finally
            {
                await stream.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Task[] all;
        lock (_connections) all = [.. _connections];
        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        _certificate?.Dispose();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // The server side needs the private key in a form SslStream can use on Linux: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    /// <summary>One accepted connection: read requests, write scripted bytes.</summary>
    internal sealed class Connection(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _buffered;

        public Stream Stream => stream;

        /// <summary>Reads one request (head and Content-Length body); null when the client closed the connection.</summary>
        public async Task<string?> ReadRequestAsync()
        {
            while (true)
            {
                var text = Encoding.Latin1.GetString(_buffer, 0, _buffered);
                int headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (headEnd >= 0)
                {
                    int length = 0;
                    foreach (var line in text[..headEnd].Split("\r\n"))
                    {
                        if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
                    }
                    int total = headEnd + 4 + length;
                    if (_buffered >= total)
                    {
                        var request = Encoding.Latin1.GetString(_buffer, 0, total);
                        Buffer.BlockCopy(_buffer, total, _buffer, 0, _buffered - total);
                        _buffered -= total;
                        return request;
                    }
                }
                int n = await stream.ReadAsync(_buffer.AsMemory(_buffered));
                if (n == 0) return null;
                _buffered += n;
            }
        }

        public async Task WriteAsync(string text)
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(text));
            await stream.FlushAsync();
        }

        /// <summary>Writes the bytes in two writes split at <paramref name="at"/>, with a pause so the client sees them apart.</summary>
        public async Task WriteSplitAsync(string text, int at)
        {
            var bytes = Encoding.Latin1.GetBytes(text);
            await stream.WriteAsync(bytes.AsMemory(0, at));
            await stream.FlushAsync();
            await Task.Delay(1);
            await stream.WriteAsync(bytes.AsMemory(at));
            await stream.FlushAsync();
        }
    }
}
