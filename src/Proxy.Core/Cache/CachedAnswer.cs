using System.Text;

namespace Proxy.Cache;

/// <summary>
/// One cached answer as a store keeps it: a format byte, the content type (its length in one byte, then ASCII), and the
/// body exactly as the client received it (a JSON answer, or a stream's SSE events).
/// </summary>
public readonly record struct CachedAnswer(string ContentType, ReadOnlyMemory<byte> Body)
{
    private const byte Format = 1;

    /// <summary>Whether the answer was a stream (what a hit answers as a stream).</summary>
    public bool IsStream => ContentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Bytes an entry adds to its body: the format byte and the content type with its length.</summary>
    public static int Overhead(string contentType) => 2 + contentType.Length;

    public static byte[] Encode(string contentType, ReadOnlySpan<byte> body)
    {
        if (contentType.Length > byte.MaxValue || !Ascii.IsValid(contentType))
            throw new ArgumentException($"a cached answer's content type is ASCII of at most {byte.MaxValue} characters", nameof(contentType));
        var bytes = new byte[Overhead(contentType) + body.Length];
        bytes[0] = Format;
        bytes[1] = (byte)contentType.Length;
        Encoding.ASCII.GetBytes(contentType, bytes.AsSpan(2));
        body.CopyTo(bytes.AsSpan(2 + contentType.Length));
        return bytes;
    }

    /// <summary>The answer in <paramref name="entry"/>, or false when the bytes are not an entry of this format.</summary>
    public static bool TryDecode(byte[] entry, out CachedAnswer answer)
    {
        answer = default;
        if (entry.Length < 2 || entry[0] != Format || entry.Length < 2 + entry[1]) return false;
        var type = entry.AsSpan(2, entry[1]);
        if (!Ascii.IsValid(type)) return false;
        answer = new CachedAnswer(Encoding.ASCII.GetString(type), entry.AsMemory(2 + entry[1]));
        return true;
    }
}
