using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Proxy.Pipeline;

namespace Proxy.Http1;

/// <summary>
/// Serializes a request (line, headers, body) into one pooled buffer, so it goes out in a single write and can be
/// sent again on a fresh connection when a reused one turns out to have been closed by the server.
/// </summary>
internal static class Http1RequestWriter
{
    public static async ValueTask<PooledBuffer> SerializeAsync(HttpRequestMessage request, byte[] hostHeader, CancellationToken ct)
    {
        var content = request.Content;
        long? declared = content?.Headers.ContentLength;
        var output = new PooledBuffer(512 + (int)Math.Min(declared ?? 0, 1 << 24));
        try
        {
            WriteHead(request, hostHeader, output, out bool knowsLength, out int lengthAt);
            if (content is null)
            {
                if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head) WriteLine(output, "Content-Length: 0"u8);
                Write(output, "\r\n"u8);
                return output;
            }
            // The body follows the head in the same buffer; an unknown length is measured and written in front of it.
            var bodyStart = output.Length + (knowsLength ? 2 : 0);
            if (knowsLength) Write(output, "\r\n"u8);
            await content.CopyToAsync(new BufferWriterStream(output), ct).ConfigureAwait(false);
            long written = output.Length - bodyStart;
            if (knowsLength && written != declared)
                throw new HttpRequestException($"The request body was {written} bytes, but its Content-Length said {declared}.");
            if (!knowsLength) InsertLength(output, lengthAt, written);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private static void WriteHead(HttpRequestMessage request, byte[] hostHeader, PooledBuffer output, out bool knowsLength, out int lengthAt)
    {
        WriteAscii(output, request.Method.Method);
        Write(output, " "u8);
        WriteAscii(output, request.RequestUri!.PathAndQuery);
        Write(output, " HTTP/1.1\r\nHost: "u8);
        if (request.Headers.NonValidated.TryGetValues("Host", out var host)) WriteValue(output, "Host", host);
        else Write(output, hostHeader);
        Write(output, "\r\n"u8);

        foreach (var header in request.Headers.NonValidated)
        {
            if (IsFramedHere(header.Key)) continue;
            WriteHeader(output, header.Key, header.Value);
        }
        knowsLength = false;
        lengthAt = -1;
        if (request.Content is { } content)
        {
            foreach (var header in content.Headers.NonValidated)
            {
                if (IsFramedHere(header.Key)) continue;
                WriteHeader(output, header.Key, header.Value);
            }
            if (content.Headers.ContentLength is long length)
            {
                knowsLength = true;
                Write(output, "Content-Length: "u8);
                // Formatted in place: no string per request.
                length.TryFormat(output.GetSpan(20), out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
                output.Advance(digits);
                Write(output, "\r\n"u8);
            }
            else
            {
                lengthAt = output.Length;
            }
        }
    }

    /// <summary>Headers the connection itself decides: framing, the host, and hop-by-hop ones.</summary>
    private static bool IsFramedHere(string name) =>
        name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Expect", StringComparison.OrdinalIgnoreCase);

    private static void WriteHeader(PooledBuffer output, string name, HeaderStringValues values)
    {
        WriteAscii(output, name);
        Write(output, ": "u8);
        WriteValue(output, name, values);
        Write(output, "\r\n"u8);
    }

    private static void WriteValue(PooledBuffer output, string name, HeaderStringValues values)
    {
        bool first = true;
        foreach (var value in values)
        {
            if (!first) Write(output, ", "u8);
            first = false;
            // A value with a line break would end the header early and let its remainder forge new ones.
            if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                throw new HttpRequestException($"The request header '{name}' contains a line break or NUL, which HTTP/1.1 cannot carry.");
            var span = output.GetSpan(value.Length);
            // Latin-1, as SocketsHttpHandler writes header values by default.
            output.Advance(Encoding.Latin1.GetBytes(value, span));
        }
    }

    /// <summary>For a body whose length was not known up front: its Content-Length goes in before the blank line.</summary>
    private static void InsertLength(PooledBuffer output, int at, long length)
    {
        Span<byte> line = stackalloc byte[48];
        "Content-Length: "u8.CopyTo(line);
        length.TryFormat(line[16..], out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        int n = 16 + digits;
        "\r\n\r\n"u8.CopyTo(line[n..]);
        n += 4;
        var body = output.Span[at..].ToArray();
        output.Truncate(at);
        Write(output, line[..n]);
        Write(output, body);
    }

    private static void WriteLine(PooledBuffer output, ReadOnlySpan<byte> line)
    {
        Write(output, line);
        Write(output, "\r\n"u8);
    }

    private static void Write(PooledBuffer output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static void WriteAscii(PooledBuffer output, string s)
    {
        var span = output.GetSpan(s.Length);
        output.Advance(Encoding.Latin1.GetBytes(s, span));
    }

    /// <summary>Lets HttpContent serialize itself into the pooled buffer.</summary>
    private sealed class BufferWriterStream(IBufferWriter<byte> output) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            buffer.CopyTo(output.GetSpan(buffer.Length));
            output.Advance(buffer.Length);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
