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
        var call = Call(adapter, """{"model":"c","messages":[]}"""u8.ToArray());
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
        Assert.Equal(new Usage { PromptTokens = 2112, CompletionTokens = 5, CachedTokens = 2000, CacheWriteTokens = 100, Reported = true }, usage);
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

        Assert.Equal(new Usage { PromptTokens = 2112, CompletionTokens = 5, CachedTokens = 2000, CacheWriteTokens = 100, Reported = true }, usage);
    }

    [Fact]
    public void ReadUsage_OfABodyThatIsNoMessage_LeavesTheUsageAlone()
    {
        var usage = default(Usage);
        Adapter().ReadUsage("<html>"u8, ref usage);

        Assert.False(usage.Reported);
    }

    private static string[] Events(string message)
    {
        var adapter = Adapter();
        var writer = new EventLogWriter();
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);
        adapter.DecodeAnswer(Encoding.UTF8.GetBytes(message), Call(adapter, """{"model":"c","messages":[]}"""u8.ToArray()), writer);
        Assert.True(writer.Completed);
        return Encoding.UTF8.GetString(output.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Decode_Message_GivesItsBlocksInOrder_ThinkingWithItsSignature()
    {
        var events = Events(Fixture.Text("Anthropic", "text.message.json"));

        Assert.Equal(
        [
            "start \"msg_01XFDUDYJgAACzvnptvVoYEL\" \"claude-sonnet-4-5-20250929\"",
            "reasoning \"The user greets me.\"",
            "signature \"EqQBCgIYAhIM\"",
            "text \"Hello \"",
            "text \"w\\u00f6rld \\\"quoted\\\" ✓\"", // as the upstream escaped it
            "finish Stop",
            "end prompt=2112 completion=5 cached=2000 written=100",
        ], events);
    }

    [Fact]
    public void Decode_ToolUse_GivesEachCallItsInputAsOneArgumentsString()
    {
        var events = Events(Fixture.Text("Anthropic", "tool-use.message.json"));

        Assert.Equal(
        [
            "start \"msg_02\" \"claude-sonnet-4-5-20250929\"",
            "text \"I'll check both.\"",
            "tool 0 \"toolu_01A\" \"get_weather\"",
            "arguments 0 \"{\\\"city\\\":\\\"Paris\\\",\\\"units\\\":[\\\"C\\\",\\\"F\\\"]}\"",
            "tool 1 \"toolu_01B\" \"get_day\"",
            "arguments 1 \"{}\"",
            "finish ToolCalls",
            "end prompt=300 completion=60 cached=0 written=0",
        ], events);
    }

    [Fact]
    public void Decode_StopSequence_TravelsWithItsValue_WhereverTheFieldsAre()
    {
        // content after the stop fields, id and model last: the events still begin with Start.
        var events = Events("""{"stop_reason":"stop_sequence","stop_sequence":"\n\nEND","content":[{"type":"text","text":"x"}],"usage":{"input_tokens":3,"output_tokens":1},"id":"m","model":"c"}""");

        Assert.Equal(["start \"m\" \"c\"", "text \"x\"", "finish StopSequence \"\\n\\nEND\"", "end prompt=3 completion=1 cached=0 written=0"], events);
    }
}
