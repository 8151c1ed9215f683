using Proxy.Providers.Anthropic;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Anthropic;

public class AnthropicStreamTests
{
    private static StreamTranscoder New(bool clientWantsUsage) => new AnthropicStreamTranscoder("anthropic", clientWantsUsage, 1_700_000_000);

    /// <summary>Runs a fixture through <see cref="Rechunk.EveryOffset"/> and compares with the expected client bytes.</summary>
    private static StreamState Check(string stream, string expected, bool clientWantsUsage)
    {
        var (output, state) = Rechunk.EveryOffset(() => New(clientWantsUsage), Fixture.Bytes("Anthropic", stream));
        Assert.Equal(Fixture.Text("Anthropic", expected), output);
        return state;
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
}
