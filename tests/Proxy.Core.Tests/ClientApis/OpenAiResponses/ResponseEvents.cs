using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Answers;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

/// <summary>One SSE event a Responses stream writer wrote: its <c>event:</c> name and its data.</summary>
internal sealed record ResponseEvent(string Name, JsonElement Data)
{
    public string Type => Data.GetProperty("type").GetString()!;

    public int Sequence => Data.GetProperty("sequence_number").GetInt32();

    public string Str(string name) => Data.GetProperty(name).GetString()!;

    public override string ToString() => Name;
}

/// <summary>Runs neutral events through a writer and reads its SSE output back, checking the framing on the way.</summary>
internal static class ResponseEvents
{
    public static string Run(AnswerWriter writer, Action<AnswerWriter> events)
    {
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);
        events(writer);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Parses SSE text into events; every event must be <c>event: X\ndata: {...}\n\n</c> (comments skipped).</summary>
    public static List<ResponseEvent> Parse(string sse)
    {
        Assert.EndsWith("\n\n", sse, StringComparison.Ordinal);
        var events = new List<ResponseEvent>();
        foreach (var block in sse[..^2].Split("\n\n"))
        {
            if (block.StartsWith(':')) continue;
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(lines[1]["data: ".Length..]);
            events.Add(new ResponseEvent(lines[0]["event: ".Length..], doc.RootElement.Clone()));
        }
        return events;
    }

    /// <summary>The invariants every stream holds: the event name is the data's type, sequence numbers count from 0.</summary>
    public static void AssertWellFormed(List<ResponseEvent> events)
    {
        for (int i = 0; i < events.Count; i++)
        {
            Assert.Equal(events[i].Name, events[i].Type);
            Assert.Equal(i, events[i].Sequence);
        }
    }

    public static string[] Types(List<ResponseEvent> events) => [.. events.Select(e => e.Type)];

    /// <summary>A .NET string as the JSON string token the contract passes.</summary>
    public static byte[] Token(string value) => AnswerText.Quote(value);
}
