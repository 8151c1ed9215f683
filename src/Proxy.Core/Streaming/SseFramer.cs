using System.Buffers;

namespace Proxy.Streaming;

/// <summary>
/// Finds whole server-sent events in a byte sequence. An event ends at a blank line; the SSE spec allows
/// LF, CRLF and CR line ends, and providers use both of the first two.
/// </summary>
public static class SseFramer
{
    /// <summary>
    /// An event as one span, so every check on it is a plain span search: itself when it sits in one segment, else copied
    /// once to <paramref name="stack"/> or, past its size, to a rented array the caller returns (<paramref name="rented"/>).
    /// </summary>
    public static ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> evt, Span<byte> stack, out byte[]? rented)
    {
        rented = null;
        if (evt.IsSingleSegment) return evt.FirstSpan;
        int length = (int)evt.Length;
        var copy = length <= stack.Length ? stack[..length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        evt.CopyTo(copy);
        return copy;
    }

    /// <summary>Takes the next whole event (without its terminating blank line) off the front of <paramref name="buffer"/>.</summary>
    public static bool TryReadEvent(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> evt)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.IsNext((byte)'\n', advancePast: true) || reader.IsNext((byte)'\r', advancePast: true))
        {
            // Stray blank lines between events carry nothing.
        }
        var start = reader.Position;
        while (reader.TryAdvanceToAny("\n\r"u8, advancePastDelimiter: false))
        {
            var lineEnd = reader.Position;
            if (!TrySkipLineEnd(ref reader) || reader.End) break;
            if (reader.TryPeek(out byte next) && next is (byte)'\n' or (byte)'\r')
            {
                if (!TrySkipLineEnd(ref reader)) break;
                evt = buffer.Slice(start, lineEnd);
                buffer = buffer.Slice(reader.Position);
                return true;
            }
        }
        evt = default;
        return false;
    }

    /// <summary>Consumes one line end; false when a CR is the last byte read so far (an LF may still follow).</summary>
    private static bool TrySkipLineEnd(ref SequenceReader<byte> reader)
    {
        reader.TryRead(out byte c);
        if (c != '\r') return true;
        if (reader.End) return false;
        reader.IsNext((byte)'\n', advancePast: true);
        return true;
    }

    /// <summary>The value of the event's first data line ("data: x" gives "x"); false for comment-only or data-less events.</summary>
    public static bool TryGetData(ReadOnlySpan<byte> evt, out ReadOnlySpan<byte> data)
    {
        data = default;
        int at = 0;
        if (!evt.StartsWith("data:"u8))
        {
            int i = evt.IndexOf("\ndata:"u8);
            if (i < 0) return false;
            at = i + 1;
        }
        var rest = evt[(at + 5)..];
        if (!rest.IsEmpty && rest[0] == ' ') rest = rest[1..];
        int nl = rest.IndexOfAny((byte)'\n', (byte)'\r');
        data = nl < 0 ? rest : rest[..nl];
        return true;
    }
}
