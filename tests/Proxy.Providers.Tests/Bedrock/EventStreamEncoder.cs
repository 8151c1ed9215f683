using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>
/// Test-side writer of application/vnd.amazon.eventstream frames (string headers only, which is all Bedrock sends).
/// Checked against a real recorded Bedrock stream: re-encoding its decoded frames gives the same bytes.
/// </summary>
public static class EventStreamEncoder
{
    public static byte[] Frame(IReadOnlyList<(string Name, string Value)> headers, ReadOnlySpan<byte> payload)
    {
        using var h = new MemoryStream();
        foreach (var (name, value) in headers)
        {
            var n = Encoding.UTF8.GetBytes(name);
            var v = Encoding.UTF8.GetBytes(value);
            h.WriteByte((byte)n.Length);
            h.Write(n);
            h.WriteByte(7); // string
            h.WriteByte((byte)(v.Length >> 8));
            h.WriteByte((byte)v.Length);
            h.Write(v);
        }
        var headerBytes = h.ToArray();
        int total = 12 + headerBytes.Length + payload.Length + 4;
        var frame = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)headerBytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), Crc32.HashToUInt32(frame.AsSpan(0, 8)));
        headerBytes.CopyTo(frame, 12);
        payload.CopyTo(frame.AsSpan(12 + headerBytes.Length));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(total - 4), Crc32.HashToUInt32(frame.AsSpan(0, total - 4)));
        return frame;
    }

    /// <summary>A Bedrock event frame, headers in the order Bedrock sends them.</summary>
    public static byte[] Event(string eventType, string jsonPayload) =>
        Frame([(":event-type", eventType), (":content-type", "application/json"), (":message-type", "event")], Encoding.UTF8.GetBytes(jsonPayload));

    public static byte[] Exception(string exceptionType, string jsonPayload) =>
        Frame([(":exception-type", exceptionType), (":content-type", "application/json"), (":message-type", "exception")], Encoding.UTF8.GetBytes(jsonPayload));

    /// <summary>
    /// A stream described as JSON: [{"event": "messageStart", "payload": {...}}, {"exception": "throttlingException", "payload": {...}}].
    /// Payloads are encoded as written in the file (keep them compact).
    /// </summary>
    public static byte[] FromDescription(string json)
    {
        using var doc = JsonDocument.Parse(json);
        using var stream = new MemoryStream();
        foreach (var frame in doc.RootElement.EnumerateArray())
        {
            var payload = frame.GetProperty("payload").GetRawText();
            stream.Write(frame.TryGetProperty("event", out var e) ? Event(e.GetString()!, payload) : Exception(frame.GetProperty("exception").GetString()!, payload));
        }
        return stream.ToArray();
    }
}
