using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Proxy.Http1;

/// <summary>
/// One keep-alive HTTP/1.1 connection to an upstream: it sends a serialized request and reads the answer's head, then
/// frames the body (Content-Length, chunked, or until close) for <see cref="Http1BodyStream"/>. One request at a time;
/// the pool hands it out and takes it back once the body has been read to its end.
/// The read buffer is rented only while bytes are expected: an idle pooled connection, and a stream waiting for its
/// next chunk, hold none.
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    private const int BufferSize = 4096;
    private const int MaxHeadBytes = 64 * 1024;
    private const int MaxFramingLine = 4096;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private byte[]? _buffer;
    private int _start; // unread bytes are _buffer[_start.._end]
    private int _end;
    private bool _disposed;

    // The answer being read.
    private BodyFraming _framing;
    private long _remaining; // Content-Length left, or the current chunk's bytes left
    private ChunkState _chunk;
    private bool _keepAlive;

    public Http1Connection(Socket socket, Stream stream, Http1Pool pool)
    {
        _socket = socket;
        _stream = stream;
        Pool = pool;
        CreatedAt = Stopwatch.GetTimestamp();
    }

    public Http1Pool Pool { get; }

    /// <summary>Stopwatch timestamps: when it was opened, and when it last went back to the pool.</summary>
    public long CreatedAt { get; }

    public long IdleSince { get; set; }

    /// <summary>True once it has carried a request: a failure before any answer byte on it may be the server's idle close.</summary>
    public bool Reused { get; private set; }

    /// <summary>No byte of the current answer has arrived yet.</summary>
    public bool NothingReceived { get; private set; }

    /// <summary>The last answer ended cleanly, nothing extra was sent after it, and neither side asked to close.</summary>
    public bool BodyComplete => _framing == BodyFraming.Done;

    public bool CanReuse => _keepAlive && _framing == BodyFraming.Done && _end == _start && !_disposed;

    public ValueTask SendAsync(ReadOnlyMemory<byte> request, CancellationToken ct)
    {
        NothingReceived = true;
        return _stream.WriteAsync(request, ct);
    }

    /// <summary>Reads the answer's head (skipping 1xx interim answers) and prepares its body for reading.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<HttpResponseMessage> ReadResponseAsync(HttpRequestMessage request, bool requestAsksClose, CancellationToken ct)
    {
        RentBuffer();
        while (true)
        {
            HttpResponseMessage? response;
            while (!TryParseHead(request, out response))
            {
                if (_start == 0 && _end == _buffer!.Length)
                {
                    if (_buffer.Length >= MaxHeadBytes) throw Invalid($"the response head is over {MaxHeadBytes / 1024} KB");
                    Grow();
                }
                if (!await FillAsync(ct).ConfigureAwait(false))
                {
                    throw new HttpRequestException(HttpRequestError.ResponseEnded, NothingReceived
                        ? "The upstream closed the connection before sending a response."
                        : "The upstream closed the connection in the middle of the response head.");
                }
            }
            if (response is null) continue; // a 1xx interim answer: the real one follows
            Reused = true;
            if (requestAsksClose) _keepAlive = false;
            bool complete = _framing == BodyFraming.Done;
            ((Http1Content)response.Content).Body = new Http1BodyStream(complete ? null : this);
            if (complete) Pool.Return(this);
            return response;
        }
    }

    /// <summary>
    /// Parses a whole head from the buffer when it holds one. Returns false when more bytes are needed; true with a
    /// null response for an interim 1xx answer (consumed).
    /// </summary>
    private bool TryParseHead(HttpRequestMessage request, out HttpResponseMessage? response)
    {
        response = null;
        var data = _buffer.AsSpan(_start, _end - _start);
        int lineEnd = data.IndexOf((byte)'\n');
        if (lineEnd < 0) return false;
        // Find the empty line that ends the head before parsing anything, so a partial head is never half applied.
        int headEnd = HeadEnd(data);
        if (headEnd < 0) return false;

        var statusLine = TrimCr(data[..lineEnd]);
        // HTTP/1.x SP 3DIGIT [SP reason]
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !IsDigit(statusLine[9]) || !IsDigit(statusLine[10]) || !IsDigit(statusLine[11]) || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
            throw Invalid("the status line is malformed");
        bool http10 = statusLine[7] == (byte)'0';
        int status = (statusLine[9] - '0') * 100 + (statusLine[10] - '0') * 10 + (statusLine[11] - '0');
        if (status < 100) throw Invalid("the status code is below 100");

        var message = new HttpResponseMessage((HttpStatusCode)status) { RequestMessage = request, Version = http10 ? HttpVersion.Version10 : HttpVersion.Version11 };
        // Content headers (Content-Type, Content-Length) belong to the content; its body stream is attached once framing is known.
        var content = new Http1Content();
        message.Content = content;
        long contentLength = -1;
        bool chunked = false, hasTransferEncoding = false, close = http10, keepAlive = false;

        var rest = data[(lineEnd + 1)..headEnd];
        while (!rest.IsEmpty)
        {
            int nl = rest.IndexOf((byte)'\n');
            var line = TrimCr(rest[..nl]);
            rest = rest[(nl + 1)..];
            if (line.IsEmpty) break;
            if (line[0] is (byte)' ' or (byte)'\t') throw Invalid("a header line is folded (obsolete line folding)");
            int colon = line.IndexOf((byte)':');
            if (colon <= 0) throw Invalid("a header line has no name");
            var name = line[..colon];
            if (name.IndexOfAny((byte)' ', (byte)'\t') >= 0) throw Invalid("a header name contains whitespace");
            var value = Trim(line[(colon + 1)..]);

            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!TryParseLength(value, out var length) || (contentLength >= 0 && contentLength != length))
                    throw Invalid("the Content-Length is invalid");
                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                hasTransferEncoding = true;
                // The last coding decides; anything but chunked there means the body runs to the close.
                chunked = LastToken(value) is var last && Ascii.EqualsIgnoreCase(last, "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                if (ContainsToken(value, "close"u8)) close = true;
                if (ContainsToken(value, "keep-alive"u8)) keepAlive = true;
            }

            var nameString = KnownHeaderNames.Get(name);
            var valueString = value.IsEmpty ? "" : System.Text.Encoding.Latin1.GetString(value);
            if (!message.Headers.TryAddWithoutValidation(nameString, valueString))
                content.Headers.TryAddWithoutValidation(nameString, valueString);
        }
        _start += headEnd;
        NothingReceived = false;

        if (status < 200)
        {
            // 100 Continue, 103 Early Hints: no body, the final answer follows. 101 would switch protocols: never asked for.
            message.Dispose();
            if (status == 101) throw Invalid("the upstream switched protocols (101) unasked");
            return true;
        }
        _keepAlive = http10 ? keepAlive && !close : !close;
        if (request.Method == HttpMethod.Head || status is 204 or 304)
        {
            _framing = BodyFraming.Done;
        }
        else if (hasTransferEncoding)
        {
            // A Transfer-Encoding overrides any Content-Length (RFC 9112 6.3); such a message must not be reused after.
            if (contentLength >= 0) _keepAlive = false;
            _framing = chunked ? BodyFraming.Chunked : BodyFraming.UntilClose;
            _chunk = ChunkState.Size;
            if (!chunked) _keepAlive = false;
        }
        else if (contentLength >= 0)
        {
            _remaining = contentLength;
            _framing = contentLength == 0 ? BodyFraming.Done : BodyFraming.Length;
        }
        else
        {
            _framing = BodyFraming.UntilClose;
            _keepAlive = false;
        }
        response = message;
        return true;
    }

    /// <summary>Reads body bytes into <paramref name="destination"/>; 0 at the end of the body (or for a zero-byte read).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (true)
        {
            switch (_framing)
            {
                case BodyFraming.Done:
                    return 0;

                case BodyFraming.Length:
                {
                    if (_end > _start) return Take(destination, (int)Math.Min(_remaining, int.MaxValue));
                    if (destination.IsEmpty)
                    {
                        await WaitForDataAsync(ct).ConfigureAwait(false);
                        return 0;
                    }
                    // Nothing buffered: read straight into the caller's memory, never past this body.
                    int want = (int)Math.Min(destination.Length, _remaining);
                    int n = await _stream.ReadAsync(destination[..want], ct).ConfigureAwait(false);
                    if (n == 0) throw Ended();
                    _remaining -= n;
                    if (_remaining == 0) _framing = BodyFraming.Done;
                    return n;
                }

                case BodyFraming.UntilClose:
                {
                    if (_end > _start) return Take(destination, int.MaxValue);
                    if (destination.IsEmpty)
                    {
                        await WaitForDataAsync(ct).ConfigureAwait(false);
                        return 0;
                    }
                    int n = await _stream.ReadAsync(destination, ct).ConfigureAwait(false);
                    if (n == 0) _framing = BodyFraming.Done;
                    return n;
                }

                default: // Chunked
                {
                    if (_chunk == ChunkState.Data && _end > _start) return TakeChunk(destination);
                    if (AdvanceChunkFraming()) continue; // framing consumed from the buffer: data, or the end
                    if (destination.IsEmpty && _end == _start)
                    {
                        await WaitForDataAsync(ct).ConfigureAwait(false);
                        return 0;
                    }
                    RentBuffer();
                    if (_end - _start >= MaxFramingLine) throw Invalid("a chunk header or trailer line is too long");
                    if (!await FillAsync(ct).ConfigureAwait(false)) throw Ended();
                    continue;
                }
            }
        }
    }

    /// <summary>
    /// Consumes chunk framing (size line, the CRLF after data, trailers) from buffered bytes without I/O. True when it
    /// made progress; false when it needs more bytes.
    /// </summary>
    private bool AdvanceChunkFraming()
    {
        var data = _buffer is null ? default : _buffer.AsSpan(_start, _end - _start);
        switch (_chunk)
        {
            case ChunkState.Size:
            {
                int nl = data.IndexOf((byte)'\n');
                if (nl < 0) return false;
                var line = TrimCr(data[..nl]);
                int semicolon = line.IndexOf((byte)';'); // chunk extensions are ignored
                if (semicolon >= 0) line = line[..semicolon];
                line = Trim(line);
                if (!TryParseHex(line, out var size)) throw Invalid("a chunk size is malformed");
                _start += nl + 1;
                _remaining = size;
                _chunk = size == 0 ? ChunkState.Trailers : ChunkState.Data;
                return true;
            }
            case ChunkState.DataEnd:
            {
                int nl = data.IndexOf((byte)'\n');
                if (nl < 0) return data.Length >= 2 ? throw Invalid("chunk data is longer than its size") : false;
                if (!TrimCr(data[..nl]).IsEmpty) throw Invalid("chunk data is longer than its size");
                _start += nl + 1;
                _chunk = ChunkState.Size;
                return true;
            }
            case ChunkState.Trailers:
            {
                int nl = data.IndexOf((byte)'\n');
                if (nl < 0) return false;
                bool last = TrimCr(data[..nl]).IsEmpty; // trailer fields are read and dropped
                _start += nl + 1;
                if (last) _framing = BodyFraming.Done;
                return true;
            }
            default:
                return false; // Data with nothing buffered: the caller reads
        }
    }

    private int TakeChunk(Memory<byte> destination)
    {
        int n = Take(destination, (int)Math.Min(_remaining, int.MaxValue), chunked: true);
        if (_remaining == 0)
        {
            _chunk = ChunkState.DataEnd;
            // Consume what framing is already here, so a body whose end arrived with its last data completes now
            // and the connection goes back to the pool before the caller asks again.
            while (_framing != BodyFraming.Done && AdvanceChunkFraming() && _chunk != ChunkState.Data)
            {
            }
        }
        return n;
    }

    private int Take(Memory<byte> destination, int limit, bool chunked = false)
    {
        int n = Math.Min(Math.Min(destination.Length, _end - _start), limit);
        _buffer.AsSpan(_start, n).CopyTo(destination.Span);
        _start += n;
        if (_framing != BodyFraming.UntilClose)
        {
            _remaining -= n;
            if (!chunked && _remaining == 0) _framing = BodyFraming.Done;
        }
        return n;
    }

    /// <summary>A zero-byte read: waits for the next bytes without holding a buffer (a long stream's quiet gaps cost no memory).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitForDataAsync(CancellationToken ct)
    {
        ReturnBuffer();
        await _stream.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
    }

    /// <summary>Reads more bytes after the unread ones; false at the end of the connection.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        RentBuffer();
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer!.Length) Grow();
        int n = await _stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
        if (n == 0) return false;
        NothingReceived = false;
        _end += n;
        return true;
    }

    private void RentBuffer() => _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);

    private void Grow()
    {
        var bigger = ArrayPool<byte>.Shared.Rent(_buffer!.Length * 2);
        _buffer.AsSpan(_start, _end - _start).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _end -= _start;
        _start = 0;
        _buffer = bigger;
    }

    /// <summary>Gives the read buffer back when nothing unread is in it.</summary>
    public void ReturnBuffer()
    {
        if (_buffer is null || _end != _start) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _start = _end = 0;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stream.Dispose();
        _socket.Dispose();
        // A read may still be running on a dead connection; its buffer is left to the collector rather than returned twice.
        _buffer = null;
    }

    private static HttpIOException Ended() =>
        new(HttpRequestError.ResponseEnded, "The upstream closed the connection before the end of the response body.");

    private static HttpRequestException Invalid(string why) =>
        new(HttpRequestError.InvalidResponse, $"The upstream sent an invalid HTTP/1.1 response: {why}.");

    /// <summary>Where the head ends: just past the first empty line after the status line; -1 while it is incomplete.</summary>
    private static int HeadEnd(ReadOnlySpan<byte> data)
    {
        int offset = data.IndexOf((byte)'\n') + 1;
        if (offset == 0) return -1;
        while (true)
        {
            int nl = data[offset..].IndexOf((byte)'\n');
            if (nl < 0) return -1;
            bool empty = TrimCr(data.Slice(offset, nl)).IsEmpty;
            offset += nl + 1;
            if (empty) return offset;
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool TryParseLength(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 18) return false;
        foreach (var b in s)
        {
            if (!IsDigit(b)) return false;
            value = value * 10 + (b - '0');
        }
        return true;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 15) return false;
        foreach (var b in s)
        {
            int d = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (d < 0) return false;
            value = value * 16 + d;
        }
        return true;
    }

    private static ReadOnlySpan<byte> LastToken(ReadOnlySpan<byte> list)
    {
        int comma = list.LastIndexOf((byte)',');
        return Trim(comma < 0 ? list : list[(comma + 1)..]);
    }

    private static bool ContainsToken(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        while (!list.IsEmpty)
        {
            int comma = list.IndexOf((byte)',');
            var item = Trim(comma < 0 ? list : list[..comma]);
            if (Ascii.EqualsIgnoreCase(item, token)) return true;
            list = comma < 0 ? default : list[(comma + 1)..];
        }
        return false;
    }

    private enum BodyFraming : byte
    {
        Done,
        Length,
        Chunked,
        UntilClose,
    }

    private enum ChunkState : byte
    {
        Size,
        Data,
        DataEnd,
        Trailers,
    }
}
