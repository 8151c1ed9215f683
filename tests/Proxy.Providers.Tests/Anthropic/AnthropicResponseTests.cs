using System.Buffers;
using System.Text;
using Proxy.Providers.Tests.Common;
using static Proxy.Providers.Tests.Anthropic.AnthropicTestSupport;

namespace Proxy.Providers.Tests.Anthropic;

public class AnthropicResponseTests
{
    private static (string Json, Usage Usage) Transcode(byte[] message)
    {
        var adapter = Adapter();
        var call = Fixture.Call(adapter.Settings, """{"model":"c","messages":[]}"""u8.ToArray(), Model);
        var output = new ArrayBufferWriter<byte>();
        var usage = default(Usage);
        adapter.TranscodeResponse(message, call, output, ref usage);
        return (Encoding.UTF8.GetString(output.WrittenSpan), usage);
    }

    [Fact]
    public void Response_TextBlocks_BecomeOneContentWithCacheAwareUsage()
    {
        var (json, usage) = Transcode(Fixture.Bytes("Anthropic", "text.message.json"));

        Fixture.JsonEqual(Fixture.Text("Anthropic", "text.openai.json"), json);
        // prompt_tokens counts all input, as OpenAI's does: 12 uncached + 2000 read from cache + 100 written to it.
        Assert.Equal(new Usage { PromptTokens = 2112, CompletionTokens = 5, CachedTokens = 2000, Reported = true }, usage);
    }

    [Fact]
    public void Response_ToolUse_BecomesToolCalls()
    {
        var (json, usage) = Transcode(Fixture.Bytes("Anthropic", "tool-use.message.json"));

        Fixture.JsonEqual(Fixture.Text("Anthropic", "tool-use.openai.json"), json);
        Assert.Equal(300, usage.PromptTokens);
    }

    [Fact]
    public void Response_OnlyToolUse_HasNullContent()
    {
        var (json, _) = Transcode("""{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}"""u8.ToArray());

        Assert.Contains("\"content\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"arguments\":\"{\\\"a\\\":1}\"", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("pause_turn", "stop")]
    [InlineData("something_new", "stop")]
    public void Response_StopReason_BecomesFinishReason(string stopReason, string finishReason)
    {
        var (json, _) = Transcode(Encoding.UTF8.GetBytes(
            $$$"""{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":"{{{stopReason}}}","usage":{"input_tokens":1,"output_tokens":1}}"""));

        Assert.Contains($"\"finish_reason\":\"{finishReason}\"", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"id":"m","type":"message"}""")]
    public void Response_Unreadable_IsAnInvalidAnswer(string body)
    {
        Assert.Throws<InvalidUpstreamAnswerException>(() => Transcode(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void ReadUsage_ReadsAMessagesUsage()
    {
        var usage = default(Usage);
        Adapter().ReadUsage(Fixture.Bytes("Anthropic", "text.message.json"), ref usage);

        Assert.Equal(2112, usage.PromptTokens);
        Assert.Equal(2000, usage.CachedTokens);
    }
}
