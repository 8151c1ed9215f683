using System.Buffers;
using System.Text;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.Providers;
using static Proxy.Core.Tests.ClientApis.OpenAiResponses.ResponseEvents;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

/// <summary>
/// The events' fields against OpenAI's own streams: the field lists below are those of recorded api.openai.com
/// Responses streams (a text answer, a reasoning-summary answer, a function call), in their order, less the optional
/// <c>obfuscation</c> padding; function_call_arguments.done has the <c>name</c> the current API reference adds.
/// </summary>
public class ResponseEventShapeTests
{
    private static readonly Dictionary<string, string[]> Recorded = new()
    {
        ["response.created"] = ["type", "sequence_number", "response"],
        ["response.in_progress"] = ["type", "sequence_number", "response"],
        ["response.output_item.added"] = ["type", "sequence_number", "output_index", "item"],
        ["response.output_item.done"] = ["type", "sequence_number", "output_index", "item"],
        ["response.content_part.added"] = ["type", "sequence_number", "item_id", "output_index", "content_index", "part"],
        ["response.content_part.done"] = ["type", "sequence_number", "item_id", "output_index", "content_index", "part"],
        ["response.output_text.delta"] = ["type", "sequence_number", "item_id", "output_index", "content_index", "delta", "logprobs"],
        ["response.output_text.done"] = ["type", "sequence_number", "item_id", "output_index", "content_index", "text", "logprobs"],
        ["response.reasoning_summary_part.added"] = ["type", "sequence_number", "item_id", "output_index", "summary_index", "part"],
        ["response.reasoning_summary_part.done"] = ["type", "sequence_number", "item_id", "output_index", "summary_index", "part"],
        ["response.reasoning_summary_text.delta"] = ["type", "sequence_number", "item_id", "output_index", "summary_index", "delta"],
        ["response.reasoning_summary_text.done"] = ["type", "sequence_number", "item_id", "output_index", "summary_index", "text"],
        ["response.function_call_arguments.delta"] = ["type", "sequence_number", "item_id", "output_index", "delta"],
        ["response.function_call_arguments.done"] = ["type", "sequence_number", "item_id", "output_index", "name", "arguments"],
        ["response.completed"] = ["type", "sequence_number", "response"],
    };

    private static readonly Dictionary<string, string[]> RecordedItems = new()
    {
        ["message"] = ["id", "type", "status", "content", "role"],
        ["reasoning"] = ["id", "type", "summary"],
        ["function_call"] = ["id", "type", "status", "arguments", "call_id", "name"],
    };

    private static readonly string[] RecordedResponse =
    [
        "id", "object", "created_at", "status", "background", "error", "incomplete_details", "instructions", "max_output_tokens",
        "max_tool_calls", "model", "output", "parallel_tool_calls", "previous_response_id", "prompt_cache_key", "prompt_cache_retention",
        "reasoning", "safety_identifier", "service_tier", "store", "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p",
        "truncation", "usage", "user", "metadata",
    ];

    [Fact]
    public void EveryEvent_HasTheFieldsOpenAiSends_InItsOrder()
    {
        var writer = new ResponseEventWriter(1, ResponseRequestFacts.Read("""{"model":"m","input":"hi"}"""u8), "resp_s");
        var events = Parse(Run(writer, w =>
        {
            w.Start(default, default);
            w.Reasoning(Token("r"));
            w.Text(Token("t"));
            w.ToolCallStart(0, Token("call_1"), Token("f"));
            w.ToolCallArguments(0, Token("{}"));
            w.SetUsage(new Usage { PromptTokens = 1, CompletionTokens = 1, Reported = true });
            w.End();
        }));

        Assert.Equal(Recorded.Keys.Order(), events.Select(e => e.Type).Distinct().Order());
        foreach (var e in events)
        {
            Assert.Equal(Recorded[e.Type], e.Data.EnumerateObject().Select(p => p.Name));
            if (e.Data.TryGetProperty("item", out var item))
                Assert.Equal(RecordedItems[item.GetProperty("type").GetString()!], item.EnumerateObject().Select(p => p.Name));
            if (e.Data.TryGetProperty("part", out var part))
                Assert.Equal(part.GetProperty("type").GetString() == "output_text" ? ["type", "annotations", "logprobs", "text"] : ["type", "text"],
                    part.EnumerateObject().Select(p => p.Name));
            if (e.Data.TryGetProperty("response", out var response))
            {
                // Ours leaves out fields that would only say null or a default; what it has follows OpenAI's order.
                var names = response.EnumerateObject().Select(p => p.Name).ToList();
                Assert.Equal(names, RecordedResponse.Where(names.Contains));
                Assert.Equal(21, names.Count);
            }
        }
        var usage = events[^1].Data.GetProperty("response").GetProperty("usage");
        Assert.Equal(["input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"], usage.EnumerateObject().Select(p => p.Name));
    }
}

/// <summary>The writer behind a decoder, as the relay runs it: the same client bytes wherever the upstream's reads split.</summary>
public class ResponseEventWriterRechunkTests
{
    // A toy upstream: one SSE event per neutral event, {"op":..., "v":<token>, "i":<index>, "n":<name>}.
    private static readonly byte[] Upstream = Encoding.UTF8.GetBytes(string.Concat(
        """data: {"op":"start","v":"up_1","n":"claude-x"}""" + "\n\n",
        """data: {"op":"reasoning","v":"Hmm, \"quoted\"."}""" + "\n\n",
        """data: {"op":"text","v":"Hé"}""" + "\n\n",
        ": keep-alive\n\n",
        """data: {"op":"text","v":"llo\n"}""" + "\n\n",
        """data: {"op":"call","i":0,"v":"call_9","n":"lookup"}""" + "\n\n",
        """data: {"op":"args","i":0,"v":"{\"q\":"}""" + "\n\n",
        """data: {"op":"args","i":0,"v":"\"x\"}"}""" + "\n\n",
        """data: {"op":"end"}""" + "\n\n"));

    [Fact]
    public void SplitAtEveryByte_GivesTheSameEvents()
    {
        var expected = Run([Upstream]);
        var events = Parse(expected);
        AssertWellFormed(events);
        Assert.Equal("response.completed", events[^1].Type);
        Assert.Equal("Héllo\n", events.Single(e => e.Type == "response.output_text.done").Str("text"));

        for (int cut = 1; cut < Upstream.Length; cut++)
            Assert.True(expected == Run([Upstream[..cut], Upstream[cut..]]), $"output differs when the upstream is split at byte {cut}");
        Assert.Equal(expected, Run(Upstream.Select(b => new[] { b })));
    }

    private static string Run(IEnumerable<byte[]> reads)
    {
        var transcoder = new DecodingTranscoder(new ToyDecoder(), new ResponseEventWriter(7, ResponseRequestFacts.Empty, "resp_toy"));
        var output = new ArrayBufferWriter<byte>();
        var state = new StreamState();
        var pending = new List<byte>();
        foreach (var read in reads)
        {
            pending.AddRange(read);
            var input = new ReadOnlySequence<byte>(pending.ToArray());
            transcoder.Transcode(ref input, output, ref state);
            pending = [.. input.ToArray()];
        }
        Assert.True(state.Completed);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private sealed class ToyDecoder : SseStreamDecoder
    {
        protected override void OnEvent(ReadOnlySpan<byte> evt, AnswerWriter writer)
        {
            if (!evt.StartsWith("data: "u8))
            {
                writer.KeepAlive();
                return;
            }
            var json = evt["data: "u8.Length..];
            string op = "";
            int index = 0;
            ReadOnlySpan<byte> value = default, name = default;
            var reader = new System.Text.Json.Utf8JsonReader(json);
            reader.Read();
            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                string key = reader.GetString()!;
                reader.Read();
                var token = json.Slice((int)reader.TokenStartIndex, (int)reader.BytesConsumed - (int)reader.TokenStartIndex);
                switch (key)
                {
                    case "op": op = reader.GetString()!; break;
                    case "i": index = reader.GetInt32(); break;
                    case "v": value = token; break;
                    case "n": name = token; break;
                }
            }
            switch (op)
            {
                case "start": writer.Start(value, name); break;
                case "reasoning": writer.Reasoning(value); break;
                case "text": writer.Text(value); break;
                case "call": writer.ToolCallStart(index, value, name); break;
                case "args": writer.ToolCallArguments(index, value); break;
                case "end": writer.End(); break;
            }
        }
    }
}
