using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Proxy.Providers.Bedrock.EventStream;

/// <summary>
/// Framing of the AWS event stream (application/vnd.amazon.eventstream): a 12-byte prelude (total length, headers
/// length, CRC32 of those 8 bytes), the headers, the payload, and a CRC32 of everything before it. Both CRCs are
/// checked. Only whole frames are taken from the input; a partial one stays for the next read.
/// </summary>
public static class EventStreamFrame
{
    public const int PreludeLength = 12;

    /// <summary>Prelude plus the trailing message CRC: the smallest possible frame (no headers, no payload).</summary>
    public const int Overhead = PreludeLength + 4;

    /// <summary>The format's own limits (16 MiB frame, 128 KiB of headers); anything larger is corruption, not data.</summary>
    public const int MaxFrameLength = 16 * 1024 * 1024;

    public const int MaxHeadersLength = 128 * 1024;

    /// <summary>
    /// Takes the next whole frame off the front of <paramref name="input"/>. Returns false (input untouched) when more
    /// bytes are needed. The prelude is checked as soon as its 12 bytes are in, so a corrupted length never makes the
    /// reader wait for bytes that will not come.
    /// </summary>
    /// <exception cref="EventStreamFormatException">The prelude CRC does not match or the lengths are impossible.</exception>
    public static bool TryTake(ref ReadOnlySequence<byte> input, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (input.Length < PreludeLength) return false;
        Span<byte> prelude = stackalloc byte[PreludeLength];
        input.Slice(0, PreludeLength).CopyTo(prelude);
        uint total = BinaryPrimitives.ReadUInt32BigEndian(prelude);
        uint headers = BinaryPrimitives.ReadUInt32BigEndian(prelude[4..]);
        uint preludeCrc = BinaryPrimitives.ReadUInt32BigEndian(prelude[8..]);
        uint actual = Crc32.HashToUInt32(prelude[..8]);
        if (actual != preludeCrc)
            throw new EventStreamFormatException($"prelude CRC mismatch (frame says {preludeCrc:x8}, bytes give {actual:x8})");
        if (total < Overhead || total > MaxFrameLength)
            throw new EventStreamFormatException($"impossible frame length {total}");
        if (headers > MaxHeadersLength || headers > total - Overhead)
            throw new EventStreamFormatException($"impossible headers length {headers} in a frame of {total} bytes");
        if (input.Length < total) return false;
        frame = input.Slice(0, total);
        input = input.Slice(total);
        return true;
    }

    /// <summary>Checks the message CRC of a whole frame and splits it into headers and payload.</summary>
    /// <exception cref="EventStreamFormatException">The message CRC does not match or a header is malformed.</exception>
    public static EventStreamMessage Decode(ReadOnlySpan<byte> frame)
    {
        uint total = BinaryPrimitives.ReadUInt32BigEndian(frame);
        int headersLength = (int)BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);
        if (total != (uint)frame.Length) throw new EventStreamFormatException($"frame length {total} does not match the {frame.Length} bytes given");
        uint messageCrc = BinaryPrimitives.ReadUInt32BigEndian(frame[^4..]);
        uint actual = Crc32.HashToUInt32(frame[..^4]);
        if (actual != messageCrc)
            throw new EventStreamFormatException($"message CRC mismatch (frame says {messageCrc:x8}, bytes give {actual:x8})");
        var headers = frame.Slice(PreludeLength, headersLength);
        EventStreamMessage.Validate(headers);
        return new EventStreamMessage(headers, frame[(PreludeLength + headersLength)..^4]);
    }
}
