using System.Buffers.Binary;

namespace Proxy.Providers.Bedrock.EventStream;

/// <summary>Header value types of the event stream format.</summary>
public enum EventStreamHeaderType : byte
{
    True = 0,
    False = 1,
    Byte = 2,
    Short = 3,
    Integer = 4,
    Long = 5,
    ByteArray = 6,
    String = 7,
    Timestamp = 8,
    Uuid = 9,
}

/// <summary>
/// One decoded frame, as views into its bytes (valid while the frame's buffer is). Headers are found by walking them:
/// a frame carries three or four, so a walk is cheaper than building a table.
/// </summary>
public readonly ref struct EventStreamMessage(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload)
{
    public ReadOnlySpan<byte> Headers { get; } = headers;

    public ReadOnlySpan<byte> Payload { get; } = payload;

    /// <summary><c>event</c>, <c>exception</c> or <c>error</c>.</summary>
    public ReadOnlySpan<byte> MessageType => StringHeader(":message-type"u8);

    /// <summary>For events: <c>messageStart</c>, <c>contentBlockDelta</c>, <c>metadata</c>...</summary>
    public ReadOnlySpan<byte> EventType => StringHeader(":event-type"u8);

    /// <summary>For exceptions: <c>throttlingException</c>, <c>validationException</c>...</summary>
    public ReadOnlySpan<byte> ExceptionType => StringHeader(":exception-type"u8);

    public ReadOnlySpan<byte> ContentType => StringHeader(":content-type"u8);

    /// <summary>The value of a string-typed header, or empty when there is none.</summary>
    public ReadOnlySpan<byte> StringHeader(ReadOnlySpan<byte> name)
    {
        var rest = Headers;
        while (!rest.IsEmpty)
        {
            int nameLength = rest[0];
            var headerName = rest.Slice(1, nameLength);
            var type = (EventStreamHeaderType)rest[1 + nameLength];
            int valueAt = 2 + nameLength;
            int size = ValueSize(type, rest[valueAt..]);
            if (type == EventStreamHeaderType.String && headerName.SequenceEqual(name)) return rest.Slice(valueAt + 2, size - 2);
            rest = rest[(valueAt + size)..];
        }
        return default;
    }

    /// <summary>Walks every header once so later lookups can index without bounds surprises.</summary>
    internal static void Validate(ReadOnlySpan<byte> headers)
    {
        int at = 0;
        while (at < headers.Length)
        {
            int nameLength = headers[at];
            if (nameLength == 0 || at + 1 + nameLength + 1 > headers.Length)
                throw new EventStreamFormatException($"malformed header name at header byte {at}");
            var type = headers[at + 1 + nameLength];
            if (type > (byte)EventStreamHeaderType.Uuid)
                throw new EventStreamFormatException($"unknown header value type {type} at header byte {at}");
            int valueAt = at + 2 + nameLength;
            var rest = headers[valueAt..];
            if ((EventStreamHeaderType)type is EventStreamHeaderType.ByteArray or EventStreamHeaderType.String && rest.Length < 2)
                throw new EventStreamFormatException($"truncated header value at header byte {at}");
            int size = ValueSize((EventStreamHeaderType)type, rest);
            if (size > rest.Length) throw new EventStreamFormatException($"header value runs past the headers at header byte {at}");
            if (Appears(headers[..at], headers.Slice(at + 1, nameLength)))
                throw new EventStreamFormatException($"header '{System.Text.Encoding.UTF8.GetString(headers.Slice(at + 1, nameLength))}' appears twice");
            at = valueAt + size;
        }
    }

    /// <summary>Whether a header named <paramref name="name"/> is among the (already validated) <paramref name="earlier"/> ones.</summary>
    private static bool Appears(ReadOnlySpan<byte> earlier, ReadOnlySpan<byte> name)
    {
        while (!earlier.IsEmpty)
        {
            int nameLength = earlier[0];
            if (earlier.Slice(1, nameLength).SequenceEqual(name)) return true;
            int valueAt = 2 + nameLength;
            earlier = earlier[(valueAt + ValueSize((EventStreamHeaderType)earlier[1 + nameLength], earlier[valueAt..]))..];
        }
        return false;
    }

    /// <summary>Bytes the value takes, its length prefix included.</summary>
    private static int ValueSize(EventStreamHeaderType type, ReadOnlySpan<byte> value) => type switch
    {
        EventStreamHeaderType.True or EventStreamHeaderType.False => 0,
        EventStreamHeaderType.Byte => 1,
        EventStreamHeaderType.Short => 2,
        EventStreamHeaderType.Integer => 4,
        EventStreamHeaderType.Long or EventStreamHeaderType.Timestamp => 8,
        EventStreamHeaderType.Uuid => 16,
        _ => 2 + BinaryPrimitives.ReadUInt16BigEndian(value),
    };
}
