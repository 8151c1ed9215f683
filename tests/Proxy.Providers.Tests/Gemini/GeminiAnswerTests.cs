using System.Buffers;
using System.Text;
using Proxy.Providers.Gemini;

namespace Proxy.Providers.Tests.Gemini;

/// <summary>Gemini answers in, OpenAI chat.completion out, with usage.</summary>
public class GeminiAnswerTests
{
    [Theory]
    [InlineData("answer-text")]    // thought parts left out, texts joined, usage with thoughts, cache and tool-use prompt
    [InlineData("answer-tools")]   // functionCall parts to tool_calls with generated ids (signature carried), finish tool_calls
    [InlineData("answer-safety")]  // a candidate stopped by safety with no content: empty content, content_filter
    [InlineData("answer-reasoning")] // thought parts and the signature left out; usage with cached tokens
    public void Answer_Fixture_BecomesTheOpenAiCompletion(string name)
    {
        var (json, _) = Transcode(GeminiFixtures.Bytes(name + ".gemini.json"));

        Assert.Equal(GeminiFixtures.Normalize(GeminiFixtures.Expected(name + ".openai.json")), GeminiFixtures.Normalize(json));
    }

    [Theory]
    [InlineData("answer-reasoning")]  // thought parts as reasoning, the signature before the text it came with, usage with cache reads
    [InlineData("answer-tools")]      // the text's signature, then each call's signature before it (and in its id); no args is "{}"
    public void Answer_Fixture_BecomesNeutralEvents(string name)
    {
        using var adapter = GeminiFixtures.Adapter();
        var output = new ArrayBufferWriter<byte>();
        var writer = new Common.EventLogWriter();
        writer.Bind(output);

        adapter.DecodeAnswer(GeminiFixtures.Bytes(name + ".gemini.json"), Call, writer);

        Assert.Equal(GeminiFixtures.Expected(name + ".events.txt"), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Answer_Usage_CountsThoughtsAsCompletionTokens()
    {
        var (_, usage) = Transcode(GeminiFixtures.Bytes("answer-text.gemini.json"));

        Assert.True(usage.Reported);
        Assert.Equal(14, usage.PromptTokens);     // 12 prompt + 2 tool-use prompt
        Assert.Equal(28, usage.CompletionTokens); // 5 candidates + 23 thoughts
        Assert.Equal(4, usage.CachedTokens);
    }

    [Theory]
    [InlineData("STOP", "stop")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("BLOCKLIST", "content_filter")]
    [InlineData("PROHIBITED_CONTENT", "content_filter")]
    [InlineData("SPII", "content_filter")]
    [InlineData("IMAGE_SAFETY", "content_filter")]
    [InlineData("MALFORMED_FUNCTION_CALL", "stop")]
    [InlineData("OTHER", "stop")]
    [InlineData("SOMETHING_NEW", "stop")]
    public void Answer_FinishReason_IsMapped(string gemini, string openAi)
    {
        var (json, _) = Transcode(Encoding.UTF8.GetBytes($$"""{"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"finishReason":"{{gemini}}"}]}"""));

        Assert.Contains($"\"finish_reason\":\"{openAi}\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\"", json, StringComparison.Ordinal); // none reported, none invented
    }

    [Fact]
    public void Answer_PromptBlocked_Is400NamingTheBlockReason()
    {
        var e = Assert.Throws<CallRejectedException>(() => Transcode(GeminiFixtures.Bytes("answer-prompt-blocked.gemini.json")));

        Assert.Equal(400, e.Failure.Status);
        Assert.Equal("invalid_request_error", e.Failure.Type);
        Assert.Equal("content_filter", e.Failure.Code);
        Assert.Equal("Upstream 'gem' blocked the prompt (blockReason: PROHIBITED_CONTENT).", e.Failure.Message);
    }

    [Fact]
    public void Answer_NotJson_IsAnInvalidUpstreamAnswer()
    {
        var e = Assert.Throws<InvalidUpstreamAnswerException>(() => Transcode("<html>oops</html>"u8.ToArray()));

        Assert.StartsWith("the answer is not JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Answer_ToolCallIds_AreStablePerRequestAndCarryTheSignature()
    {
        var first = Transcode(GeminiFixtures.Bytes("answer-tools.gemini.json")).Json;
        var again = Transcode(GeminiFixtures.Bytes("answer-tools.gemini.json")).Json;

        Assert.Equal(first, again);
        var id = ToolCallIds.Create("req-1", 0, "U0lH+/8=");
        Assert.StartsWith("call_", id, StringComparison.Ordinal);
        Assert.Equal("U0lH+/8=", ToolCallIds.Signature(id).ToString());
        Assert.True(ToolCallIds.Signature(ToolCallIds.Create("req-1", 1, null)).IsEmpty);
        Assert.NotEqual(ToolCallIds.Create("req-1", 0, null), ToolCallIds.Create("req-2", 0, null));
    }

    private static UpstreamCall Call => GeminiFixtures.Call("""{"model":"flash","messages":[{"role":"user","content":"hi"}]}""");

    /// <summary>Through the adapter, as the relay calls it: the answer decoded and written by the OpenAI chat writer.</summary>
    private static (string Json, Usage Usage) Transcode(byte[] gemini)
    {
        using var adapter = GeminiFixtures.Adapter();
        var output = new ArrayBufferWriter<byte>();
        var usage = default(Usage);
        adapter.TranscodeResponse(gemini, Call, output, ref usage);
        return (Encoding.UTF8.GetString(output.WrittenSpan), usage);
    }
}
