using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Anthropic;

/// <summary>
/// The stream decoder: its neutral events at every byte split (<see cref="EventLogWriter"/>), and what an OpenAI chat
/// client gets through the OpenAI stream writer (the same bytes the Anthropic-to-OpenAI transcoder gave before).
/// </summary>
public class AnthropicStreamTests
{
    private static StreamTranscoder New(bool clientWantsUsage) =>
        new DecodingTranscoder(new AnthropicStreamDecoder("anthropic"), new ChatChunkWriter(AnthropicTestSupport.Created, clientWantsUsage, "chatcmpl-test"));

    private static StreamTranscoder Events() => new DecodingTranscoder(new AnthropicStreamDecoder("anthropic"), new EventLogWriter());

    /// <summary>Runs a fixture through <see cref="Rechunk.EveryOffset"/> and compares with the expected client bytes.</summary>
    private static StreamState Check(string stream, string expected, bool clientWantsUsage)
    {
        var (output, state) = Rechunk.EveryOffset(() => New(clientWantsUsage), Fixture.Bytes("Anthropic", stream));
        Assert.Equal(Fixture.Text("Anthropic", expected), output);
        return state;
    }

    private static (string[] Events, StreamState State) Decode(string stream)
    {
        var (output, state) = Rechunk.EveryOffset(Events, Fixture.Bytes("Anthropic", stream));
        return (output.Split('\n', StringSplitOptions.RemoveEmptyEntries), state);
    }

    [Fact]
    public void Stream_Text_BecomesOpenAiChunksWithUsageWhenAsked()
    {
        var state = Check("text.stream.sse", "text.stream.openai.sse", clientWantsUsage: true);

        Assert.True(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal(new Usage { PromptTokens = 1025, CompletionTokens = 15, CachedTokens = 1000, Reported = true }, state.Usage);
    }

    [Fact]
    public void Stream_Text_WithoutUsageRequest_HasNoUsageChunkButCountsIt()
    {
        var (output, state) = Rechunk.EveryOffset(() => New(false), Fixture.Bytes("Anthropic", "text.stream.sse"));

        Assert.DoesNotContain("\"usage\"", output, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", output, StringComparison.Ordinal);
        Assert.Equal(15, state.Usage.CompletionTokens);
        Assert.True(state.Completed);
    }

    [Fact]
    public void Stream_ToolCallDeltas_BecomeOpenAiToolCallChunks()
    {
        var state = Check("tool-use.stream.sse", "tool-use.stream.openai.sse", clientWantsUsage: true);

        Assert.True(state.Completed);
        Assert.Equal(472, state.Usage.PromptTokens);
        Assert.Equal(89, state.Usage.CompletionTokens);
    }

    [Fact]
    public void Stream_MaxTokens_FinishesWithLength()
    {
        var state = Check("max-tokens.stream.sse", "max-tokens.stream.openai.sse", clientWantsUsage: false);

        Assert.True(state.Completed);
    }

    [Fact]
    public void Stream_ErrorEvent_BecomesOpenAiErrorEventAndFails()
    {
        var state = Check("error.stream.sse", "error.stream.openai.sse", clientWantsUsage: true);

        Assert.True(state.Failed);
        Assert.False(state.Completed);
        Assert.Equal(10, state.Usage.PromptTokens); // what message_start reported still counts
    }

    [Fact]
    public void Stream_MalformedEvent_FailsWithAnErrorEvent()
    {
        var stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\ndata: {not json\n\n"u8.ToArray();

        var (output, state) = Rechunk.EveryOffset(() => New(false), stream);

        Assert.True(state.Failed);
        Assert.Contains("\"code\":\"upstream_invalid_answer\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_CutBeforeMessageStop_IsNotCompleted()
    {
        var whole = Fixture.Bytes("Anthropic", "text.stream.sse");
        var cut = whole.AsSpan(0, whole.AsSpan().IndexOf("event: message_stop"u8)).ToArray();

        var (output, state) = Rechunk.EveryOffset(() => New(true), cut);

        Assert.False(state.Completed);
        Assert.False(state.Failed);
        Assert.DoesNotContain("[DONE]", output, StringComparison.Ordinal);
        Assert.Equal(15, state.Usage.CompletionTokens);
    }

    [Fact]
    public void Decoder_Thinking_IsReasoningThenItsSignature_AsDocumentedStreamsIt()
    {
        var (events, state) = Decode("thinking.stream.sse");

        Assert.Equal(
        [
            "start \"msg_01Thk\" \"claude-sonnet-4-5\"",
            "reasoning \"I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\\n\\n1071 = 2 \\u00d7 462 + 147\"",
            "reasoning \"\\n462 = 3 \\u00d7 147 + 21\\n147 = 7 \\u00d7 21 + 0\"",
            "keepalive",
            "signature \"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds==\"",
            "text \"The greatest common divisor of 1071 and 462 is **21**.\"",
            "finish Stop",
            "end prompt=48 completion=130 cached=0 written=0",
        ], events);
        Assert.True(state.Completed);
    }

    [Fact]
    public void Decoder_Thinking_IsDroppedForOpenAiClients()
    {
        var (output, state) = Rechunk.EveryOffset(() => New(false), Fixture.Bytes("Anthropic", "thinking.stream.sse"));

        Assert.DoesNotContain("GCD", output, StringComparison.Ordinal);
        Assert.DoesNotContain("EqQB", output, StringComparison.Ordinal);
        Assert.Contains("\"content\":\"The greatest common divisor of 1071 and 462 is **21**.\"", output, StringComparison.Ordinal);
        Assert.True(state.Completed);
    }

    [Fact]
    public void Decoder_CacheUsage_IsNormalized_AndTheStopSequenceTravelsWithItsValue()
    {
        var (events, state) = Decode("cache-usage.stream.sse");

        Assert.Equal(
        [
            "start \"msg_01Cache\" \"claude-sonnet-4-5-20250929\"",
            "keepalive",
            "text \"Section 1 says the tenant pays\"",
            "text \" for repairs. \"",
            "finish StopSequence \"END\"",
            "end prompt=1812 completion=42 cached=0 written=1800",
        ], events);
        // Prompt tokens count every input token: 12 uncached + 1800 written to the cache (+ 0 read from it).
        Assert.Equal(new Usage { PromptTokens = 1812, CompletionTokens = 42, CachedTokens = 0, CacheWriteTokens = 1800, Reported = true }, state.Usage);
    }

    [Fact]
    public void Decoder_ToolUse_CountsToolCallsOnly_AndLeavesACallWithoutArgumentsBare()
    {
        var (events, _) = Decode("tool-use.stream.sse");

        Assert.Equal(
        [
            "start \"msg_014p7gG3wDgGV9EUtLvnow3U\" \"claude-sonnet-4-5-20250929\"",
            "text \"Checking.\"",
            "tool 0 \"toolu_01T1x1fJ34qAmk2tNTrN7Up6\" \"get_weather\"",
            "arguments 0 \"{\\\"city\\\": \\\"San\"",
            "arguments 0 \" Francisco\\\"}\"",
            "tool 1 \"toolu_02\" \"get_day\"",
            "finish ToolCalls",
            "end prompt=472 completion=89 cached=0 written=0",
        ], events);
    }

    [Fact]
    public void Decoder_ErrorEvent_IsClassifiedAsItsType()
    {
        var (events, state) = Decode("error.stream.sse");

        Assert.Equal("error 503 upstream_error upstream_overloaded Upstream 'anthropic' is overloaded (Anthropic 529): Overloaded", events[^1]);
        Assert.True(state.Failed);
    }

    [Theory]
    [InlineData("end_turn", "Stop")]
    [InlineData("max_tokens", "Length")]
    [InlineData("model_context_window_exceeded", "Length")]
    [InlineData("tool_use", "ToolCalls")]
    [InlineData("refusal", "Refusal")]
    [InlineData("pause_turn", "PauseTurn")]
    [InlineData("something_new", "Stop")]
    public void Decoder_StopReason_BecomesTheNeutralReason(string stopReason, string reason)
    {
        var stream = System.Text.Encoding.UTF8.GetBytes(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n" +
            $"event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{stopReason}\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":2}}}}\n\n" +
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");

        var (output, _) = Rechunk.EveryOffset(Events, stream);

        Assert.Contains($"finish {reason}\n", output, StringComparison.Ordinal);
    }
}
