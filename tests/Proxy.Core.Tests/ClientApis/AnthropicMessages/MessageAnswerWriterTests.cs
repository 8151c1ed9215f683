using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Proxy.Answers;
using Proxy.ClientApis.AnthropicMessages;
using Proxy.Providers;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

public class MessageAnswerWriterTests
{
    private static byte[] Q(string text) => AnswerText.Quote(text);

    private static (string Output, MessageAnswerWriter Writer) Run(Action<MessageAnswerWriter> events)
    {
        var writer = new MessageAnswerWriter("msg_req1", Q("routed-model"));
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);
        events(writer);
        return (Encoding.UTF8.GetString(output.WrittenSpan), writer);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), actual);

    [Fact]
    public void TextAndToolCalls_AreOneMessage_WithBlocksInOrder()
    {
        var (output, writer) = Run(w =>
        {
            w.Start(Q("chatcmpl-1"), Q("gpt-4o"));
            w.Text(Q("Let me "));
            w.Text(Q("check \"both\"."));
            w.ToolCallStart(0, Q("call_abc"), Q("get_weather"));
            w.ToolCallArguments(0, Q("{\"city\": "));
            w.ToolCallArguments(0, Q("\"Paris\"}"));
            w.ToolCallStart(1, Q("call_def"), Q("get_time"));
            w.Finish(FinishReason.ToolCalls);
            w.SetUsage(new Usage { PromptTokens = 100, CompletionTokens = 20, Reported = true });
            w.End();
        });
        Assert.Equal(
            """{"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt-4o","content":[{"type":"text","text":"Let me check \"both\"."},"""
            + """{"type":"tool_use","id":"call_abc","name":"get_weather","input":{"city": "Paris"}},{"type":"tool_use","id":"call_def","name":"get_time","input":{}}]"""
            + ""","stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":20}}""",
            output);
        Assert.True(writer.Completed);
        Assert.Equal(1, writer.EventsWritten);
    }

    [Fact]
    public void Thinking_KeepsItsSignature_AndUsageIsInAnthropicsConvention()
    {
        var (output, _) = Run(w =>
        {
            w.Start(Q("msg_01"), Q("claude-sonnet-4-5"));
            w.Reasoning(Q("First, "));
            w.Reasoning(Q("think."));
            w.ReasoningSignature(Q("EqQB"));
            w.ReasoningSignature(Q("CgIY"));
            w.Text(Q("Answer."));
            w.Finish(FinishReason.Stop);
            w.SetUsage(new Usage { PromptTokens = 1000, CompletionTokens = 50, CachedTokens = 600, CacheWriteTokens = 300, Reported = true });
            w.End();
        });
        AssertJson("""
            {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[
              {"type":"thinking","thinking":"First, think.","signature":"EqQBCgIY"},
              {"type":"text","text":"Answer."}],
             "stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":100,"cache_creation_input_tokens":300,"cache_read_input_tokens":600,"output_tokens":50}}
            """, output);
    }

    [Fact]
    public void NoStartAndNoUsage_TheGatewaysIdAndModel_AndZeroCounts()
    {
        var (output, _) = Run(w =>
        {
            w.Text(Q("hi"));
            w.Finish(FinishReason.Length);
            w.End();
        });
        AssertJson("""
            {"id":"msg_req1","type":"message","role":"assistant","model":"routed-model","content":[{"type":"text","text":"hi"}],
             "stop_reason":"max_tokens","stop_sequence":null,
             "usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}
            """, output);
    }

    [Fact]
    public void StopSequence_IsNamed()
    {
        var (output, _) = Run(w =>
        {
            w.Text(Q("1, 2, 3"));
            w.Finish(FinishReason.StopSequence, Q("4"));
            w.End();
        });
        var message = JsonNode.Parse(output)!;
        Assert.Equal("stop_sequence", (string?)message["stop_reason"]);
        Assert.Equal("4", (string?)message["stop_sequence"]);
    }

    [Fact]
    public void ArgumentsThatAreNotAnObject_MakeTheAnswerUnreadable()
    {
        var writer = new MessageAnswerWriter("msg_req1");
        writer.Bind(new ArrayBufferWriter<byte>());
        writer.ToolCallStart(0, Q("call_1"), Q("f"));
        writer.ToolCallArguments(0, Q("{\"a\":"));
        Assert.Throws<InvalidUpstreamAnswerException>(writer.End);
    }

    [Fact]
    public void Error_IsKeptForTheRelay_AndNothingIsWritten()
    {
        var (output, writer) = Run(w =>
        {
            w.Text(Q("partial"));
            w.Error("blocked by the provider's filter", "invalid_request_error", "content_filter", 400);
            w.End();
        });
        Assert.Equal("", output);
        Assert.True(writer.Failed);
        Assert.False(writer.Completed);
        Assert.Equal(new UpstreamFailure(400, "invalid_request_error", "content_filter", "blocked by the provider's filter", false), writer.Failure);
    }
}
