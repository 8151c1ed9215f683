using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Proxy.Providers.Bedrock.EventStream;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>The event stream framing against botocore's vectors and a real recorded Bedrock stream (Fixtures/eventstream/SOURCE.md).</summary>
public class EventStreamFrameTests
{
    private static JsonElement Vectors { get; } = JsonDocument.Parse(BedrockFixtures.Text("eventstream/botocore-vectors.json")).RootElement;

    public static TheoryData<string> Positive() => Names("positive");

    public static TheoryData<string> Negative() => Names("negative");

    [Theory]
    [MemberData(nameof(Positive))]
    public void BotocoreVector_Decodes_ToItsLengthsHeadersAndPayload(string name)
    {
        var vector = Find("positive", name);
        var bytes = Convert.FromBase64String(vector.GetProperty("frame").GetString()!);
        var input = new ReadOnlySequence<byte>(bytes);

        Assert.True(EventStreamFrame.TryTake(ref input, out var frame));
        Assert.True(input.IsEmpty);
        var span = frame.ToArray();
        Assert.Equal(vector.GetProperty("total_length").GetInt32(), span.Length);
        Assert.Equal(vector.GetProperty("headers_length").GetInt32(), (int)BinaryPrimitives.ReadUInt32BigEndian(span.AsSpan(4)));
        Assert.Equal(vector.GetProperty("prelude_crc").GetUInt32(), BinaryPrimitives.ReadUInt32BigEndian(span.AsSpan(8)));
        Assert.Equal(vector.GetProperty("message_crc").GetUInt32(), BinaryPrimitives.ReadUInt32BigEndian(span.AsSpan(span.Length - 4)));
        var message = EventStreamFrame.Decode(span);
        Assert.Equal(Convert.FromBase64String(vector.GetProperty("payload").GetString()!), message.Payload.ToArray());
        foreach (var header in vector.GetProperty("headers").EnumerateObject())
        {
            if (header.Value.TryGetProperty("string", out var text))
                Assert.Equal(text.GetString(), Encoding.UTF8.GetString(message.StringHeader(Encoding.UTF8.GetBytes(header.Name))));
            else
                Assert.True(message.StringHeader(Encoding.UTF8.GetBytes(header.Name)).IsEmpty, $"'{header.Name}' is not a string header");
        }
    }

    [Theory]
    [MemberData(nameof(Negative))]
    public void BotocoreCorruptedVector_IsRejected(string name)
    {
        var bytes = Convert.FromBase64String(Find("negative", name).GetProperty("frame").GetString()!);
        var input = new ReadOnlySequence<byte>(bytes);
        var e = Assert.Throws<EventStreamFormatException>(() =>
        {
            // CORRUPTED_LENGTH claims 16 MiB: the prelude CRC catches it before any wait for bytes that never come.
            Assert.True(EventStreamFrame.TryTake(ref input, out var frame), "a corrupted frame must not look incomplete");
            EventStreamFrame.Decode(frame.ToArray());
        });
        Assert.False(string.IsNullOrEmpty(e.Message));
    }

    [Fact]
    public void RealBedrockStream_EveryFrameDecodes_AndTheEncoderReproducesItByteForByte()
    {
        var recorded = Convert.FromBase64String(BedrockFixtures.Text("eventstream/bedrock-claude-tool-use.b64").Trim());
        var input = new ReadOnlySequence<byte>(recorded);
        using var reencoded = new MemoryStream();
        var types = new List<string>();
        while (EventStreamFrame.TryTake(ref input, out var frame))
        {
            var message = EventStreamFrame.Decode(frame.ToArray());
            Assert.Equal("event", Encoding.UTF8.GetString(message.MessageType));
            Assert.Equal("application/json", Encoding.UTF8.GetString(message.ContentType));
            var type = Encoding.UTF8.GetString(message.EventType);
            types.Add(type);
            reencoded.Write(EventStreamEncoder.Event(type, Encoding.UTF8.GetString(message.Payload)));
        }
        Assert.True(input.IsEmpty);
        Assert.Equal(25, types.Count);
        Assert.Equal(["messageStart", "contentBlockDelta"], types.Take(2));
        Assert.Equal(["contentBlockStop", "messageStop", "metadata"], types.TakeLast(3));
        Assert.Equal(recorded, reencoded.ToArray());
    }

    [Fact]
    public void PartialFrame_IsLeftForTheNextRead()
    {
        var frame = EventStreamEncoder.Event("messageStart", """{"role":"assistant"}""");
        for (int cut = 0; cut < frame.Length; cut++)
        {
            var input = new ReadOnlySequence<byte>(frame, 0, cut);
            Assert.False(EventStreamFrame.TryTake(ref input, out _));
            Assert.Equal(cut, input.Length);
        }
    }

    [Fact]
    public void FlippedPayloadBit_FailsTheMessageCrc()
    {
        var frame = EventStreamEncoder.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"text":"Hi"}}""");
        frame[^8] ^= 0x01;
        var input = new ReadOnlySequence<byte>(frame);
        Assert.True(EventStreamFrame.TryTake(ref input, out var taken));
        var e = Assert.Throws<EventStreamFormatException>(() => EventStreamFrame.Decode(taken.ToArray()));
        Assert.Contains("message CRC mismatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FlippedLengthBit_FailsThePreludeCrc()
    {
        var frame = EventStreamEncoder.Event("messageStart", """{"role":"assistant"}""");
        frame[2] ^= 0x40;
        var input = new ReadOnlySequence<byte>(frame);
        var e = Assert.Throws<EventStreamFormatException>(() => EventStreamFrame.TryTake(ref input, out _));
        Assert.Contains("prelude CRC mismatch", e.Message, StringComparison.Ordinal);
    }

    private static TheoryData<string> Names(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var v in Vectors.GetProperty(kind).EnumerateArray()) data.Add(v.GetProperty("name").GetString()!);
        return data;
    }

    private static JsonElement Find(string kind, string name) =>
        Vectors.GetProperty(kind).EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);
}
