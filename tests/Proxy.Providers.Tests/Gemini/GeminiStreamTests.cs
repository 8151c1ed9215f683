using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Providers.Gemini;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Gemini;

/// <summary>Gemini SSE in (split at every byte offset and byte by byte), neutral events out and, through the OpenAI chat writer, OpenAI chunks out.</summary>
public class GeminiStreamTests
{
    [Theory]
    [InlineData("stream-text")]             // text deltas (thoughts left out, escapes kept), finish and usage at the end, CRLF events
    [InlineData("stream-tools")]            // each function call as a tool-call start and its whole arguments, finish tool_calls
    [InlineData("stream-reasoning")]        // thought parts and signatures left out of OpenAI's chunks; usage with cached tokens
    [InlineData("stream-safety")]           // a safety stop mid-stream: finish_reason content_filter
    [InlineData("stream-repeated-finish")]  // finishReason on every chunk: one finish chunk, the last reason
    public void Stream_Fixture_BecomesOpenAiChunks(string name)
    {
        var (output, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: true), GeminiFixtures.Bytes(name + ".gemini.sse"));

        Assert.Equal(GeminiFixtures.Expected(name + ".openai.sse"), output);
        Assert.True(state.Completed);
        Assert.False(state.Failed);
    }

    [Fact]
    public void Stream_ClientDidNotAskForUsage_NoUsageChunkButUsageAccounted()
    {
        var (output, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: false), GeminiFixtures.Bytes("stream-text.gemini.sse"));

        Assert.DoesNotContain("\"usage\"", output, StringComparison.Ordinal);
        Assert.EndsWith("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", output, StringComparison.Ordinal);
        Assert.True(state.Usage.Reported);
        Assert.Equal(7, state.Usage.PromptTokens);
        Assert.Equal(8, state.Usage.CompletionTokens); // 3 candidates + 5 thoughts
        Assert.Equal(2, state.Usage.CachedTokens);
    }

    [Theory]
    [InlineData("stream-error")]    // an error object mid-stream: OpenAI error event, stream failed
    [InlineData("stream-blocked")]  // the prompt blocked before any candidate: error event naming the reason
    public void Stream_ErrorOrBlock_EndsWithErrorEventAndFails(string name)
    {
        var (output, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: true), GeminiFixtures.Bytes(name + ".gemini.sse"));

        Assert.Equal(GeminiFixtures.Expected(name + ".openai.sse"), output);
        Assert.True(state.Failed);
        Assert.False(state.Completed);
        Assert.DoesNotContain("[DONE]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_EndsWithoutFinishReason_IsNotComplete()
    {
        var (output, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: true), GeminiFixtures.Bytes("stream-cut.gemini.sse"));

        Assert.False(state.Completed); // the relay reports the stream as cut
        Assert.False(state.Failed);
        Assert.Equal(3, state.EventsWritten); // the role chunk, "Hel", "lo"
        Assert.DoesNotContain("[DONE]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_EventNotJson_FailsWithErrorEvent()
    {
        var (output, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: true), "data: {\"candidates\": [\n\n"u8.ToArray());

        Assert.True(state.Failed);
        Assert.Contains("\"code\":\"upstream_invalid_answer\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_CommentsAndBlankEvents_AreIgnored()
    {
        var stream = ": keep-alive\r\n\r\n"u8.ToArray()
            .Concat(GeminiFixtures.Bytes("stream-repeated-finish.gemini.sse")).ToArray();

        var (output, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: true), stream);

        Assert.Equal(GeminiFixtures.Expected("stream-repeated-finish.openai.sse"), output);
        Assert.True(state.Completed);
    }

    [Theory]
    [InlineData("stream-text")]       // start with the target's model and no id, thoughts as reasoning, usage with cache reads
    [InlineData("stream-tools")]      // one start and one whole-arguments event per call; the signature before its call, and in its id
    [InlineData("stream-reasoning")]  // thought parts as reasoning, each thoughtSignature as a signature (the last one on an empty text)
    [InlineData("stream-blocked")]    // a blocked prompt fails before anything starts
    [InlineData("stream-cut")]        // no finishReason: no finish and no end (the relay reports the cut)
    public void Stream_Fixture_BecomesNeutralEvents(string name)
    {
        var (output, _) = Rechunk.EveryOffset(() => new DecodingTranscoder(Decoder(), new EventLogWriter()), GeminiFixtures.Bytes(name + ".gemini.sse"));

        Assert.Equal(GeminiFixtures.Expected(name + ".events.txt"), output);
    }

    [Fact]
    public void Stream_Usage_IsNormalized_CachedTokensInsidePromptTokens()
    {
        var (_, state) = Rechunk.EveryOffset(() => Transcoder(clientWantsUsage: true), GeminiFixtures.Bytes("stream-reasoning.gemini.sse"));

        Assert.Equal((1030L, 22L, 1024L, 0L), (state.Usage.PromptTokens, state.Usage.CompletionTokens, state.Usage.CachedTokens, state.Usage.CacheWriteTokens));
    }

    private static GeminiStreamDecoder Decoder() => new(GeminiFixtures.ModelJson, GeminiFixtures.RequestId, "gem");

    private static DecodingTranscoder Transcoder(bool clientWantsUsage) =>
        new(Decoder(), new ChatChunkWriter(GeminiFixtures.Created.ToUnixTimeSeconds(), clientWantsUsage, "chatcmpl-" + GeminiFixtures.RequestId));
}
