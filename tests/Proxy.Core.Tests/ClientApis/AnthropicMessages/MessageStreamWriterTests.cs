using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Proxy.Answers;
using Proxy.ClientApis.AnthropicMessages;
using Proxy.Providers;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

public class MessageStreamWriterTests
{
    private static byte[] Q(string text) => AnswerText.Quote(text);

    private static string Ev(string name, string json) => $"event: {name}\ndata: {json}\n\n";

    private const string ZeroUsage = """{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}""";

    private static string MessageStart(string id = "chatcmpl-1", string model = "gpt-4o", string usage = ZeroUsage) => Ev("message_start",
        $$"""{"type":"message_start","message":{"id":"{{id}}","type":"message","role":"assistant","content":[],"model":"{{model}}","stop_reason":null,"stop_sequence":null,"usage":""" + usage + "}}");

    private static string BlockStart(int index, string block) =>
        Ev("content_block_start", $$"""{"type":"content_block_start","index":{{index}},"content_block":""" + block + "}");

    private static string Delta(int index, string delta) => Ev("content_block_delta", $$"""{"type":"content_block_delta","index":{{index}},"delta":""" + delta + "}");

    private static string BlockStop(int index) => Ev("content_block_stop", $$"""{"type":"content_block_stop","index":{{index}}}""");

    private static string MessageEnd(string stopReason, string usage, string stopSequence = "null") =>
        Ev("message_delta", $$"""{"type":"message_delta","delta":{"stop_reason":"{{stopReason}}","stop_sequence":{{stopSequence}}},"usage":""" + usage + "}")
        + Ev("message_stop", """{"type":"message_stop"}""");

    private static (string Output, MessageStreamWriter Writer) Run(Action<MessageStreamWriter> events)
    {
        var writer = new MessageStreamWriter("msg_req1", Q("routed-model"));
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);
        events(writer);
        return (Encoding.UTF8.GetString(output.WrittenSpan), writer);
    }

    private static Usage Counts(long prompt, long completion, long cacheRead = 0, long cacheWrite = 0) =>
        new() { PromptTokens = prompt, CompletionTokens = completion, CachedTokens = cacheRead, CacheWriteTokens = cacheWrite, Reported = true };

    [Fact]
    public void Text_IsOneTextBlock_AndTheUsageComesInMessageDelta()
    {
        var (output, writer) = Run(w =>
        {
            w.Start(Q("chatcmpl-1"), Q("gpt-4o"));
            w.Text(Q("Hello"));
            w.Text(Q(""));
            w.Text(Q(", \"world\"\n"));
            w.Finish(FinishReason.Stop);
            w.SetUsage(Counts(12, 3));
            w.End();
        });
        Assert.Equal(
            MessageStart()
            + BlockStart(0, """{"type":"text","text":""}""")
            + Delta(0, """{"type":"text_delta","text":"Hello"}""")
            + Delta(0, """{"type":"text_delta","text":", \"world\"\n"}""")
            + BlockStop(0)
            + MessageEnd("end_turn", """{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}"""),
            output);
        Assert.True(writer.Completed);
        Assert.False(writer.Failed);
        Assert.Equal(7, writer.EventsWritten);
    }

    [Fact]
    public void Thinking_ThenText_AreTwoBlocks_WithTheSignatureInTheThinkingBlock()
    {
        var (output, _) = Run(w =>
        {
            w.Start(Q("msg_01"), Q("claude-sonnet-4-5"));
            w.Reasoning(Q("Let me think"));
            w.Reasoning(Q(" about it."));
            w.ReasoningSignature(Q("EqQBCgIYAhIM"));
            w.Text(Q("42"));
            w.Finish(FinishReason.Stop);
            w.End();
        });
        Assert.Equal(
            MessageStart("msg_01", "claude-sonnet-4-5")
            + BlockStart(0, """{"type":"thinking","thinking":"","signature":""}""")
            + Delta(0, """{"type":"thinking_delta","thinking":"Let me think"}""")
            + Delta(0, """{"type":"thinking_delta","thinking":" about it."}""")
            + Delta(0, """{"type":"signature_delta","signature":"EqQBCgIYAhIM"}""")
            + BlockStop(0)
            + BlockStart(1, """{"type":"text","text":""}""")
            + Delta(1, """{"type":"text_delta","text":"42"}""")
            + BlockStop(1)
            + MessageEnd("end_turn", ZeroUsage),
            output);
    }

    [Fact]
    public void TextThenTwoToolCalls_EachCallIsABlock_WithItsUpstreamId()
    {
        var (output, _) = Run(w =>
        {
            w.Start(Q("chatcmpl-1"), Q("gpt-4o"));
            w.Text(Q("Checking both."));
            w.ToolCallStart(0, Q("call_abc"), Q("get_weather"));
            w.ToolCallArguments(0, Q("{\"city\":"));
            w.ToolCallArguments(0, Q("\"Paris\"}"));
            w.ToolCallStart(1, Q("call_def"), Q("get_time"));
            w.ToolCallArguments(1, Q("{}"));
            w.Finish(FinishReason.ToolCalls);
            w.SetUsage(Counts(100, 20));
            w.End();
        });
        Assert.Equal(
            MessageStart()
            + BlockStart(0, """{"type":"text","text":""}""")
            + Delta(0, """{"type":"text_delta","text":"Checking both."}""")
            + BlockStop(0)
            + BlockStart(1, """{"type":"tool_use","id":"call_abc","name":"get_weather","input":{}}""")
            + Delta(1, """{"type":"input_json_delta","partial_json":"{\"city\":"}""")
            + Delta(1, """{"type":"input_json_delta","partial_json":"\"Paris\"}"}""")
            + BlockStop(1)
            + BlockStart(2, """{"type":"tool_use","id":"call_def","name":"get_time","input":{}}""")
            + Delta(2, """{"type":"input_json_delta","partial_json":"{}"}""")
            + BlockStop(2)
            + MessageEnd("tool_use", """{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":20}"""),
            output);
    }

    [Fact]
    public void TextAfterAToolCall_OpensANewTextBlock()
    {
        var (output, _) = Run(w =>
        {
            w.ToolCallStart(0, Q("call_1"), Q("lookup"));
            w.Text(Q("done"));
            w.End();
        });
        var result = AnthropicEventChecker.Read(output);
        Assert.Equal(["tool_use", "text"], result.Message["content"]!.AsArray().Select(b => (string)b!["type"]!));
        // No reason from the upstream, but a tool was called: the client waits for its result.
        Assert.Equal("tool_use", (string?)result.Message["stop_reason"]);
        // No Start from the upstream: the gateway's id and the routed model.
        Assert.Equal("msg_req1", (string?)result.Message["id"]);
        Assert.Equal("routed-model", (string?)result.Message["model"]);
    }

    [Fact]
    public void UsageWithCache_IsSaidInAnthropicsConvention_AtStartAndEnd()
    {
        var (output, _) = Run(w =>
        {
            // An upstream that knows the prompt's counts at the start (Anthropic, Bedrock) reports them then.
            w.SetUsage(Counts(1000, 1, cacheRead: 600, cacheWrite: 300));
            w.Start(Q("msg_1"), Q("claude"));
            w.Text(Q("ok"));
            w.SetUsage(Counts(1000, 25, cacheRead: 600, cacheWrite: 300));
            w.End();
        });
        Assert.StartsWith(MessageStart("msg_1", "claude",
            """{"input_tokens":100,"cache_creation_input_tokens":300,"cache_read_input_tokens":600,"output_tokens":1}"""), output, StringComparison.Ordinal);
        Assert.EndsWith(MessageEnd("end_turn",
            """{"input_tokens":100,"cache_creation_input_tokens":300,"cache_read_input_tokens":600,"output_tokens":25}"""), output, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorMidStream_IsAnErrorEvent_AndTheStreamEndsThere()
    {
        var (output, writer) = Run(w =>
        {
            w.Start(Q("chatcmpl-1"), Q("gpt-4o"));
            w.Text(Q("Hel"));
            w.Error("Upstream 'openai' is overloaded", "upstream_error", "upstream_overloaded", 503);
            w.End();
        });
        Assert.Equal(
            MessageStart()
            + BlockStart(0, """{"type":"text","text":""}""")
            + Delta(0, """{"type":"text_delta","text":"Hel"}""")
            + Ev("error", """{"type":"error","error":{"type":"overloaded_error","message":"Upstream 'openai' is overloaded"}}"""),
            output);
        Assert.True(writer.Failed);
        Assert.False(writer.Completed);
        Assert.Equal(503, writer.Failure!.Value.Status);
        Assert.Equal("overloaded_error", (string?)AnthropicEventChecker.Read(output).Error!["type"]);
    }

    [Fact]
    public void KeepAlive_IsAPingEvent()
    {
        var (output, writer) = Run(w =>
        {
            w.Start(Q("chatcmpl-1"), Q("gpt-4o"));
            w.KeepAlive();
        });
        Assert.Equal(MessageStart() + "event: ping\ndata: {\"type\": \"ping\"}\n\n", output);
        Assert.Equal(2, writer.EventsWritten);
    }

    [Theory]
    [InlineData(FinishReason.Stop, "end_turn")]
    [InlineData(FinishReason.Length, "max_tokens")]
    [InlineData(FinishReason.ToolCalls, "tool_use")]
    [InlineData(FinishReason.ContentFilter, "refusal")]
    [InlineData(FinishReason.Refusal, "refusal")]
    [InlineData(FinishReason.PauseTurn, "pause_turn")]
    [InlineData(FinishReason.None, "end_turn")]
    public void FinishReasons_AreAnthropicStopReasons(FinishReason reason, string expected)
    {
        var (output, _) = Run(w =>
        {
            w.Text(Q("x"));
            w.Finish(reason);
            w.End();
        });
        Assert.Equal(expected, (string?)AnthropicEventChecker.Read(output).Message["stop_reason"]);
    }

    [Fact]
    public void StopSequence_IsNamedInMessageDelta()
    {
        var (output, _) = Run(w =>
        {
            w.Text(Q("a, b"));
            w.Finish(FinishReason.StopSequence, Q("\n\nHuman:"));
            w.End();
        });
        Assert.Contains("""{"stop_reason":"stop_sequence","stop_sequence":"\n\nHuman:"}""", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ToolCallWithoutAnId_GetsOneMadeUp()
    {
        var (output, _) = Run(w =>
        {
            w.ToolCallStart(0, default, Q("lookup"));
            w.End();
        });
        string id = (string)AnthropicEventChecker.Read(output).Message["content"]![0]!["id"]!;
        Assert.StartsWith("toolu_", id, StringComparison.Ordinal);
        Assert.True(id.Length > 10);
    }

    [Fact]
    public void AnEmptyAnswer_IsStillACompleteMessage()
    {
        var (output, writer) = Run(w => w.End());
        var result = AnthropicEventChecker.Read(output);
        Assert.Equal(["message_start", "message_delta", "message_stop"], result.Events);
        Assert.True(writer.Completed);
    }

    [Fact]
    public void AMixedAnswer_ParsesAsAnthropicEventsInOrder()
    {
        var (output, _) = Run(w =>
        {
            w.KeepAlive();
            w.Start(Q("chatcmpl-9"), Q("gemini-2.5-pro"));
            w.Reasoning(Q("Plan: look it up."));
            w.ReasoningSignature(Q("sig=="));
            w.Text(Q("Looking up \u00e9t\u00e9 \ud83c\udf1e"));
            w.ToolCallStart(0, Q("call_1"), Q("search"));
            w.ToolCallArguments(0, Q("{\"q\":\"\\u00e9t\\u00e9\"}"));
            w.KeepAlive();
            w.ToolCallStart(1, Q("call_2"), Q("fetch"));
            w.Text(Q("Then fetch."));
            w.Reasoning(Q("More."));
            w.Finish(FinishReason.ToolCalls);
            w.SetUsage(Counts(50, 10, cacheRead: 20));
            w.End();
        });
        var result = AnthropicEventChecker.Read(output);
        var expected = JsonNode.Parse("""
            {"id":"chatcmpl-9","type":"message","role":"assistant","content":[
              {"type":"thinking","thinking":"Plan: look it up.","signature":"sig=="},
              {"type":"text","text":"Looking up été 🌞"},
              {"type":"tool_use","id":"call_1","name":"search","input":{"q":"été"}},
              {"type":"tool_use","id":"call_2","name":"fetch","input":{}},
              {"type":"text","text":"Then fetch."},
              {"type":"thinking","thinking":"More.","signature":""}],
             "model":"gemini-2.5-pro","stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":20,"output_tokens":10}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, result.Message), result.Message.ToJsonString());
    }

    [Fact]
    public void ThroughARelayedStream_EveryByteSplitGivesTheSameEvents()
    {
        var stream = ScriptDecoder.Script(
            """["start","chatcmpl-7","gpt-4o"]""",
            """["reasoning","Hmm"]""",
            """["text","Hello \"there\"\n"]""",
            """["ping"]""",
            """["tool",0,"call_1","get_weather"]""",
            """["args",0,"{\"city\":\"Par"]""",
            """["args",0,"is\"}"]""",
            """["finish","ToolCalls"]""",
            """["usage",30,9,10,5]""",
            """["end"]""");
        var (expected, state) = Rechunked.EveryOffset(() => new DecodingTranscoder(new ScriptDecoder(), new MessageStreamWriter("msg_x")), stream);
        Assert.True(state.Completed);
        Assert.Equal(30, state.Usage.PromptTokens);
        var result = AnthropicEventChecker.Read(expected);
        Assert.Equal("""{"city":"Paris"}""", result.Message["content"]![2]!["input"]!.ToJsonString());
        Assert.Equal(15, (int)result.Message["usage"]!["input_tokens"]!);
        Assert.Contains("ping", result.Events);
    }
}
