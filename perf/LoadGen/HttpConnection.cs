using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace LoadGen;

/// <summary>The request line, headers and body, serialized once: every request on every connection sends these same bytes.</summary>
internal sealed class RequestTemplate
{
    public byte[] Bytes { get; }
    public string Method { get; }
    public bool IsHead { get; }
    public EndPoint EndPoint { get; }

    public RequestTemplate(Options o)
    {
        string method = Method = o.Method ?? (o.Body is null ? "GET" : "POST");
        IsHead = method == "HEAD";
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(o.Url.PathAndQuery).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(o.Url.Authority).Append("\r\n");
        bool hasContentType = false;
        foreach (string h in o.Headers)
        {
            head.Append(h).Append("\r\n");
            hasContentType |= h.StartsWith("content-type:", StringComparison.OrdinalIgnoreCase);
        }
        if (o.Body is not null)
        {
            if (!hasContentType) head.Append("Content-Type: application/json\r\n");
            head.Append("Content-Length: ").Append(o.Body.Length).Append("\r\n");
        }
        head.Append("\r\n");
        Bytes = [.. Encoding.ASCII.GetBytes(head.ToString()), .. o.Body ?? []];
        EndPoint = Resolve(o.Url, o.AllowRemote);
    }

    private static IPEndPoint Resolve(Uri url, bool allowRemote)
    {
        IPAddress ip = IPAddress.TryParse(url.Host.Trim('[', ']'), out IPAddress? parsed) ? parsed
            : Dns.GetHostAddresses(url.Host).OrderBy(a => a.AddressFamily != AddressFamily.InterNetwork).First();
        if (!allowRemote && !IPAddress.IsLoopback(ip))
            throw new ArgumentException($"{url.Host} ({ip}) is not a loopback address; pass --allow-remote if you really mean it");
        return new IPEndPoint(ip, url.Port);
    }
}

internal sealed class HttpProtocolException(string message) : Exception(message);

/// <summary>What a completed exchange reports. Timestamps are Stopwatch ticks.</summary>
internal readonly record struct HttpResult(int Status, long FirstByteTicks, bool KeepAlive, long BodyBytes);

/// <summary>
/// A minimal HTTP/1.1 keep-alive client connection: one request at a time, no pipelining. It exists because
/// HttpClient measured ~18% below wrk on this 2-core box (the client steals CPU from the server it measures);
/// this one sends a prebuilt byte array and parses the response in place, allocating nothing per request.
/// It understands Content-Length, chunked transfer encoding and read-to-close bodies.
/// </summary>
internal sealed class HttpConnection(EndPoint endPoint) : IDisposable
{
    private const int MaxBuffer = 1 << 20; // a header block or chunk-size line longer than this is a protocol error
    private Socket? _socket;
    private byte[] _buf = new byte[16 * 1024];
    private int _start, _end;   // unread bytes are _buf[_start.._end)
    private long _recvTicks;    // when the bytes in the buffer arrived

    public bool Connected => _socket is not null;

    /// <summary>Status of the response being read, 0 until its headers are parsed (tells a truncated stream from a failed request).</summary>
    public int CurrentStatus { get; private set; }

    public async ValueTask ConnectAsync(CancellationToken ct)
    {
        Close();
        var s = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try { await s.ConnectAsync(endPoint, ct); }
        catch { s.Dispose(); throw; }
        _socket = s;
        _start = _end = 0;
    }

    public void Close()
    {
        _socket?.Dispose();
        _socket = null;
    }

    public void Dispose() => Close();

    /// <summary>Sends one request and reads the whole response; body bytes go to <paramref name="sink"/> as they arrive.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<HttpResult> ExchangeAsync(byte[] request, bool isHead, SseScanner? sink, CancellationToken ct)
    {
        Socket s = _socket ?? throw new InvalidOperationException("not connected");
        CurrentStatus = 0;
        if (_start != _end) throw new HttpProtocolException("bytes received before the request was sent");
        for (int sent = 0; sent < request.Length;)
            sent += await s.SendAsync(request.AsMemory(sent), SocketFlags.None, ct);

        int headerLength;
        while ((headerLength = _buf.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            if (!await FillAsync(ct)) throw new EndOfStreamException("connection closed before the response headers");
        long firstByte = _recvTicks; // the buffer was empty before the request, so the first fill is the first byte

        (int status, long contentLength, bool chunked, bool keepAlive) = ParseHead(_buf.AsSpan(_start, headerLength));
        _start += headerLength + 4;
        CurrentStatus = status;

        long bodyBytes;
        if (isHead || status is 204 or 304 or < 200) bodyBytes = 0;
        else if (chunked) bodyBytes = await ReadChunkedAsync(sink, ct);
        else if (contentLength >= 0) { await ReadBytesAsync(contentLength, sink, ct); bodyBytes = contentLength; }
        else { bodyBytes = await ReadToCloseAsync(sink, ct); keepAlive = false; }

        if (_start == _end) _start = _end = 0;
        return new HttpResult(status, firstByte, keepAlive, bodyBytes);
    }

    private static (int Status, long ContentLength, bool Chunked, bool KeepAlive) ParseHead(ReadOnlySpan<byte> head)
    {
        int eol = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> statusLine = eol < 0 ? head : head[..eol];
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out _))
            throw new HttpProtocolException("bad status line");
        long contentLength = -1;
        bool chunked = false, keepAlive = statusLine[7] == (byte)'1'; // HTTP/1.1 keeps alive by default, 1.0 does not
        ReadOnlySpan<byte> rest = eol < 0 ? [] : head[(eol + 2)..];
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0) continue;
            ReadOnlySpan<byte> name = line[..colon], value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out int used) || used != value.Length || contentLength < 0)
                    throw new HttpProtocolException("bad Content-Length");
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8)) chunked = ContainsIgnoreCase(value, "chunked"u8);
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                if (ContainsIgnoreCase(value, "close"u8)) keepAlive = false;
                else if (ContainsIgnoreCase(value, "keep-alive"u8)) keepAlive = true;
            }
        }
        return (status, contentLength, chunked, keepAlive);
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        for (int i = 0; i + token.Length <= value.Length; i++)
            if (Ascii.EqualsIgnoreCase(value.Slice(i, token.Length), token)) return true;
        return false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<long> ReadChunkedAsync(SseScanner? sink, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            int lineLength = await LineAsync(ct);
            ReadOnlySpan<byte> sizeText = _buf.AsSpan(_start, lineLength);
            int semicolon = sizeText.IndexOf((byte)';'); // chunk extensions are ignored
            if (semicolon >= 0) sizeText = sizeText[..semicolon];
            if (!Utf8Parser.TryParse(sizeText.Trim((byte)' '), out long size, out int used, 'x') || used == 0 || size < 0)
                throw new HttpProtocolException("bad chunk size");
            _start += lineLength + 2;
            if (size == 0)
            {
                while ((lineLength = await LineAsync(ct)) > 0) _start += lineLength + 2; // trailers
                _start += 2;
                return total;
            }
            await ReadBytesAsync(size, sink, ct);
            total += size;
            if (await LineAsync(ct) != 0) throw new HttpProtocolException("chunk not followed by CRLF");
            _start += 2;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadBytesAsync(long length, SseScanner? sink, CancellationToken ct)
    {
        while (length > 0)
        {
            if (_start == _end && !await FillAsync(ct)) throw new EndOfStreamException("connection closed inside the body");
            int n = (int)Math.Min(length, _end - _start);
            sink?.OnData(_buf.AsSpan(_start, n), _recvTicks);
            _start += n;
            length -= n;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<long> ReadToCloseAsync(SseScanner? sink, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            int n = _end - _start;
            sink?.OnData(_buf.AsSpan(_start, n), _recvTicks);
            total += n;
            _start = _end;
            if (!await FillAsync(ct)) return total;
        }
    }

    /// <summary>Waits until a whole CRLF-terminated line is buffered at _start; returns its length without the CRLF.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> LineAsync(CancellationToken ct)
    {
        int i;
        while ((i = _buf.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
            if (!await FillAsync(ct)) throw new EndOfStreamException("connection closed inside the body");
        return i;
    }

    /// <summary>Receives more bytes after the unread ones (compacting or growing the buffer first); false when the peer closed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_start == _end) _start = _end = 0;
        else if (_end == _buf.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else if (_buf.Length < MaxBuffer) Array.Resize(ref _buf, _buf.Length * 2);
            else throw new HttpProtocolException("response header block or chunk line too long");
        }
        int n = await _socket!.ReceiveAsync(_buf.AsMemory(_end), SocketFlags.None, ct);
        if (n == 0) return false;
        _end += n;
        _recvTicks = Stopwatch.GetTimestamp();
        return true;
    }
}
