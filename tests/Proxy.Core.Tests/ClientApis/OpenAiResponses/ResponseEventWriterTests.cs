using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.Providers;
using static Proxy.Core.Tests.ClientApis.OpenAiResponses.ResponseEvents;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class ResponseEventWriterTests
{
    private const long Created = 1_760_000_000;

    private static readonly ResponseRequestFacts Facts = ResponseRequestFacts.Read(Encoding.UTF8.GetBytes("""
        {"model":"claude-sonnet","instructions":"Be brief.","previous_response_id":"resp_prev","store":false,
         "metadata":{"ticket":"42"},"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}],
         "tool_choice":"auto","max_output_tokens":256,"temperature":0.2,"input":"hi"}
        """));

    private static ResponseEventWriter NewWriter() => new(Created, Facts, ResponseIds.ResponseId("req_abc123"));

    private static Usage SomeUsage => new() { PromptTokens = 120, CompletionTokens = 30, CachedTokens = 100, CacheWriteTokens = 15, Reported = true };

    [Fact]
    public void Text_EventsInOrder_DoneRepeatsTheJoinedDeltas()
    {
        var writer = NewWriter();
        var events = Parse(Run(writer, w =>
        {
            w.Start(Token("msg_upstream"), Token("claude-sonnet-4-5"));
            w.Text(Token("Hel"));
            w.Text("\"lo \\\"you\\\"\\n\\u00e9\""u8);
            w.Finish(FinishReason.Stop);
            w.SetUsage(SomeUsage);
            w.End();
        }));

        AssertWellFormed(events);
        Assert.Equal([
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.completed"], Types(events));

        var deltas = events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Str("delta"));
        var done = events.Single(e => e.Type == "response.output_text.done");
        Assert.Equal("Hello \"you\"\né", string.Concat(deltas));
        Assert.Equal(string.Concat(deltas), done.Str("text"));
        Assert.Equal("msg_abc123_0", done.Str("item_id"));
        Assert.Equal(0, done.Data.GetProperty("output_index").GetInt32());
        Assert.Equal(0, done.Data.GetProperty("content_index").GetInt32());

        var added = events[2].Data.GetProperty("item");
        Assert.Equal("in_progress", added.GetProperty("status").GetString());
        Assert.Equal(0, added.GetProperty("content").GetArrayLength());
        Assert.Equal("", events[3].Data.GetProperty("part").GetProperty("text").GetString());

        var response = events[^1].Data.GetProperty("response");
        Assert.Equal("resp_abc123", response.GetProperty("id").GetString());
        Assert.Equal("response", response.GetProperty("object").GetString());
        Assert.Equal("completed", response.GetProperty("status").GetString());
        Assert.Equal(Created, response.GetProperty("created_at").GetInt64());
        Assert.Equal("claude-sonnet-4-5", response.GetProperty("model").GetString());
        var message = response.GetProperty("output")[0];
        Assert.Equal("completed", message.GetProperty("status").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal("Hello \"you\"\né", message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("output_text", message.GetProperty("content")[0].GetProperty("type").GetString());

        var usage = response.GetProperty("usage");
        Assert.Equal(120, usage.GetProperty("input_tokens").GetInt64());
        Assert.Equal(100, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(15, usage.GetProperty("input_tokens_details").GetProperty("cache_write_tokens").GetInt64());
        Assert.Equal(30, usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt64());
        Assert.Equal(150, usage.GetProperty("total_tokens").GetInt64());

        Assert.True(writer.Completed);
        Assert.False(writer.Failed);
        Assert.Equal(events.Count, writer.EventsWritten);
        Assert.Equal(ResponseStatus.Completed, writer.Status);
    }

    [Fact]
    public void FirstEvents_EchoTheRequest_WithNoOutputYet()
    {
        var events = Parse(Run(NewWriter(), w => w.Start(default, default)));

        AssertWellFormed(events);
        Assert.Equal(["response.created", "response.in_progress"], Types(events));
        var response = events[0].Data.GetProperty("response");
        Assert.Equal("in_progress", response.GetProperty("status").GetString());
        Assert.Equal(0, response.GetProperty("output").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("usage").ValueKind);
        Assert.Equal("claude-sonnet", response.GetProperty("model").GetString()); // the upstream named none
        Assert.Equal("Be brief.", response.GetProperty("instructions").GetString());
        Assert.Equal("resp_prev", response.GetProperty("previous_response_id").GetString());
        Assert.False(response.GetProperty("store").GetBoolean());
        Assert.Equal("42", response.GetProperty("metadata").GetProperty("ticket").GetString());
        Assert.Equal("get_weather", response.GetProperty("tools")[0].GetProperty("name").GetString());
        Assert.Equal("auto", response.GetProperty("tool_choice").GetString());
        Assert.True(response.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal(256, response.GetProperty("max_output_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("error").ValueKind);
    }

    [Fact]
    public void ReasoningThenText_TwoItems_ReasoningAsSummaryEvents()
    {
        var writer = NewWriter();
        var events = Parse(Run(writer, w =>
        {
            w.Start(default, Token("gemini-2.5-pro"));
            w.Reasoning(Token("Let me "));
            w.Reasoning(Token("think."));
            w.ReasoningSignature(Token("sig"));
            w.Text(Token("42"));
            w.Finish(FinishReason.Stop);
            w.End();
        }));

        AssertWellFormed(events);
        Assert.Equal([
            "response.created", "response.in_progress",
            "response.output_item.added", "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.completed"], Types(events));

        var reasoningDone = events.Single(e => e.Type == "response.reasoning_summary_text.done");
        Assert.Equal("Let me think.", reasoningDone.Str("text"));
        Assert.Equal("rs_abc123_0", reasoningDone.Str("item_id"));
        Assert.Equal(0, reasoningDone.Data.GetProperty("summary_index").GetInt32());
        Assert.Equal("msg_abc123_1", events.Single(e => e.Type == "response.output_text.delta").Str("item_id"));
        Assert.Equal(1, events.Single(e => e.Type == "response.output_text.delta").Data.GetProperty("output_index").GetInt32());

        var output = events[^1].Data.GetProperty("response").GetProperty("output");
        Assert.Equal(2, output.GetArrayLength());
        Assert.Equal("reasoning", output[0].GetProperty("type").GetString());
        Assert.Equal("summary_text", output[0].GetProperty("summary")[0].GetProperty("type").GetString());
        Assert.Equal("Let me think.", output[0].GetProperty("summary")[0].GetProperty("text").GetString());
        Assert.Equal("42", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, events[^1].Data.GetProperty("response").GetProperty("usage").ValueKind); // none reported
    }

    [Fact]
    public void TwoFunctionCalls_InterleavedArguments_EachDoneRepeatsItsDeltas()
    {
        var writer = NewWriter();
        var events = Parse(Run(writer, w =>
        {
            w.Start(default, default);
            w.Text(Token("Checking."));
            w.ToolCallStart(0, Token("call_A"), Token("get_weather"));
            w.ToolCallArguments(0, Token("{\"city\":"));
            w.ToolCallStart(1, Token("toolu_B"), Token("get_time"));
            w.ToolCallArguments(1, Token("{\"tz\":\"UTC\"}"));
            w.ToolCallArguments(0, Token("\"Paris\"}"));
            w.Finish(FinishReason.ToolCalls);
            w.SetUsage(SomeUsage);
            w.End();
        }));

        AssertWellFormed(events);
        var added = events.Where(e => e.Type == "response.output_item.added").Select(e => e.Data.GetProperty("item")).ToList();
        Assert.Equal(3, added.Count);
        Assert.Equal("function_call", added[1].GetProperty("type").GetString());
        Assert.Equal("call_A", added[1].GetProperty("call_id").GetString());
        Assert.Equal("get_weather", added[1].GetProperty("name").GetString());
        Assert.Equal("", added[1].GetProperty("arguments").GetString());
        Assert.Equal("fc_abc123_1", added[1].GetProperty("id").GetString());
        Assert.Equal("toolu_B", added[2].GetProperty("call_id").GetString());

        // The message ends before the first call begins.
        int messageDone = events.FindIndex(e => e.Type == "response.output_item.done");
        int firstCall = events.FindIndex(e => e.Type == "response.output_item.added" && e.Data.GetProperty("output_index").GetInt32() == 1);
        Assert.True(messageDone < firstCall);

        foreach (var (itemId, arguments) in new[] { ("fc_abc123_1", "{\"city\":\"Paris\"}"), ("fc_abc123_2", "{\"tz\":\"UTC\"}") })
        {
            var deltas = events.Where(e => e.Type == "response.function_call_arguments.delta" && e.Str("item_id") == itemId).Select(e => e.Str("delta"));
            var done = events.Single(e => e.Type == "response.function_call_arguments.done" && e.Str("item_id") == itemId);
            Assert.Equal(arguments, string.Concat(deltas));
            Assert.Equal(arguments, done.Str("arguments"));
            var itemDone = events.Single(e => e.Type == "response.output_item.done" && e.Data.GetProperty("item").GetProperty("id").GetString() == itemId);
            Assert.True(itemDone.Sequence > done.Sequence);
            Assert.Equal(arguments, itemDone.Data.GetProperty("item").GetProperty("arguments").GetString());
            Assert.Equal("completed", itemDone.Data.GetProperty("item").GetProperty("status").GetString());
        }
        Assert.Equal("get_weather", events.First(e => e.Type == "response.function_call_arguments.done").Str("name"));

        var response = events[^1].Data.GetProperty("response");
        Assert.Equal("response.completed", events[^1].Type);
        Assert.Equal(["message", "function_call", "function_call"], response.GetProperty("output").EnumerateArray().Select(i => i.GetProperty("type").GetString()));
    }

    [Fact]
    public void CallWithoutArguments_GetsAnEmptyObject()
    {
        var events = Parse(Run(NewWriter(), w =>
        {
            w.ToolCallStart(0, Token("call_1"), Token("now"));
            w.End();
        }));

        AssertWellFormed(events);
        Assert.Equal("{}", events.Single(e => e.Type == "response.function_call_arguments.delta").Str("delta"));
        Assert.Equal("{}", events.Single(e => e.Type == "response.function_call_arguments.done").Str("arguments"));
    }

    [Fact]
    public void CallWithoutId_GetsOneMadeUp()
    {
        var events = Parse(Run(NewWriter(), w =>
        {
            w.ToolCallStart(0, default, Token("now"));
            w.End();
        }));

        Assert.Equal("call_abc123_0", events.Single(e => e.Type == "response.output_item.added").Data.GetProperty("item").GetProperty("call_id").GetString());
    }

    [Fact]
    public void Length_EndsIncomplete_WithMaxOutputTokens()
    {
        var writer = NewWriter();
        var events = Parse(Run(writer, w =>
        {
            w.Start(default, default);
            w.Text(Token("A long ans"));
            w.Finish(FinishReason.Length);
            w.SetUsage(SomeUsage);
            w.End();
        }));

        AssertWellFormed(events);
        Assert.Equal("response.incomplete", events[^1].Type);
        var response = events[^1].Data.GetProperty("response");
        Assert.Equal("incomplete", response.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal("incomplete", response.GetProperty("output")[0].GetProperty("status").GetString());
        Assert.Equal("incomplete", events.Single(e => e.Type == "response.output_item.done").Data.GetProperty("item").GetProperty("status").GetString());
        Assert.True(writer.Completed);
        Assert.Equal(ResponseStatus.Incomplete, writer.Status);
    }

    [Fact]
    public void ContentFilter_EndsIncomplete_WithContentFilter()
    {
        var events = Parse(Run(NewWriter(), w =>
        {
            w.Text(Token("I can"));
            w.Finish(FinishReason.ContentFilter);
            w.End();
        }));

        Assert.Equal("content_filter", events[^1].Data.GetProperty("response").GetProperty("incomplete_details").GetProperty("reason").GetString());
    }

    [Fact]
    public void Error_EndsWithAnErrorEvent_FlatAndNested_AndNothingAfter()
    {
        var writer = NewWriter();
        var events = Parse(Run(writer, w =>
        {
            w.Start(default, default);
            w.Text(Token("Partial"));
            w.Error("Upstream overloaded", "upstream_error", "overloaded", 529);
            w.Text(Token("ignored"));
            w.End();
        }));

        AssertWellFormed(events);
        var error = events[^1];
        Assert.Equal("error", error.Type);
        Assert.Equal("overloaded", error.Str("code"));
        Assert.Equal("Upstream overloaded", error.Str("message"));
        Assert.Equal(JsonValueKind.Null, error.Data.GetProperty("param").ValueKind);
        Assert.Equal("upstream_error", error.Data.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("Upstream overloaded", error.Data.GetProperty("error").GetProperty("message").GetString());
        Assert.DoesNotContain(events, e => e.Type is "response.completed" or "response.output_text.done");

        Assert.True(writer.Failed);
        Assert.False(writer.Completed);
        Assert.Equal(new UpstreamFailure(529, "upstream_error", "overloaded", "Upstream overloaded", false), writer.Failure);
        using var stored = JsonDocument.Parse(writer.ResponseJson);
        Assert.Equal("failed", stored.RootElement.GetProperty("status").GetString());
        Assert.Equal("overloaded", stored.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("incomplete", stored.RootElement.GetProperty("output")[0].GetProperty("status").GetString());
    }

    [Fact]
    public void ResponseJsonAndOutputItems_AreWhatTheLastEventCarried()
    {
        var writer = NewWriter();
        var events = Parse(Run(writer, w =>
        {
            w.Reasoning(Token("hmm"));
            w.Text(Token("Hi"));
            w.ToolCallStart(0, Token("call_1"), Token("f"));
            w.ToolCallArguments(0, Token("{}"));
            w.SetUsage(SomeUsage);
            w.End();
        }));

        var completed = events[^1].Data.GetProperty("response");
        using var stored = JsonDocument.Parse(writer.ResponseJson);
        Assert.Equal(completed.GetRawText(), stored.RootElement.GetRawText());
        using var items = JsonDocument.Parse(writer.OutputItemsJson);
        Assert.Equal(completed.GetProperty("output").GetRawText(), items.RootElement.GetRawText());
    }

    [Fact]
    public void KeepAlive_IsACommentThatCounts()
    {
        var writer = NewWriter();
        var sse = Run(writer, w =>
        {
            w.Start(default, default);
            w.KeepAlive();
            w.Text(Token("x"));
            w.End();
        });

        Assert.Contains("\n\n: ping\n\n", sse, StringComparison.Ordinal);
        var events = Parse(sse);
        AssertWellFormed(events);
        Assert.Equal(events.Count + 1, writer.EventsWritten);
    }

    [Fact]
    public void EventsSpreadOverManyBindings_GiveTheSameBytes()
    {
        // The relay binds the writer to its output before each read's batch of events; the reused JSON writer must follow.
        Action<AnswerWriter>[] script =
        [
            w => w.Start(Token("id"), Token("m")),
            w => w.Reasoning(Token("r")),
            w => w.Text(Token("a")),
            w => w.Text(Token("b")),
            w => w.ToolCallStart(0, Token("c0"), Token("f")),
            w => w.ToolCallArguments(0, Token("{\"x\":1}")),
            w => w.Finish(FinishReason.ToolCalls),
            w => w.SetUsage(SomeUsage),
            w => w.End(),
        ];
        var whole = Run(NewWriter(), w => { foreach (var step in script) step(w); });

        var writer = NewWriter();
        var pieces = new StringBuilder();
        foreach (var step in script)
        {
            var output = new ArrayBufferWriter<byte>();
            writer.Bind(output);
            step(writer);
            pieces.Append(Encoding.UTF8.GetString(output.WrittenSpan));
        }
        Assert.Equal(whole, pieces.ToString());
    }

    [Fact]
    public void RequestValuesWithLineBreaks_DoNotBreakTheDataLines()
    {
        var facts = ResponseRequestFacts.Read("{\"model\":\"m\",\r\n \"tools\": [\n  {\"type\": \"function\",\n   \"name\": \"f\"}\n ],\n \"metadata\": {\n \"a\": \"line\\nbreak\"\n}\n}"u8);
        var events = Parse(Run(new ResponseEventWriter(Created, facts, "resp_x"), w => w.Start(default, default)));

        var response = events[0].Data.GetProperty("response");
        Assert.Equal("f", response.GetProperty("tools")[0].GetProperty("name").GetString());
        Assert.Equal("line\nbreak", response.GetProperty("metadata").GetProperty("a").GetString());
    }
}
