using System.Buffers;
using System.Text;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>A Converse answer in, the exact OpenAI chat.completion out (Fixtures/converse/response-*.json).</summary>
public class ConverseResponseTests
{
    [Theory]
    [InlineData("text", 1836, 5, 1800)]
    [InlineData("tool-use", 386, 75, 0)]
    [InlineData("tool-only", 10, 3, 0)]
    [InlineData("length", 4, 2, 0)]
    [InlineData("guardrail", 9, 8, 0)]
    [InlineData("reasoning", 1215, 30, 1000)]
    public void Answer_Translates_ToTheOpenAiFixture(string name, long prompt, long completion, long cached)
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var call = BedrockFixtures.Call(settings, """{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        var upstream = BedrockFixtures.Bytes($"converse/response-{name}.converse.json");
        var output = new ArrayBufferWriter<byte>();
        var usage = default(Usage);

        adapter.TranscodeResponse(upstream, call, output, ref usage);

        Assert.Equal(BedrockFixtures.Compact(BedrockFixtures.Text($"converse/response-{name}.openai.json")), Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.True(usage.Reported);
        Assert.Equal((prompt, completion, cached), (usage.PromptTokens, usage.CompletionTokens, usage.CachedTokens));
        var read = default(Usage);
        Proxy.Providers.Bedrock.Converse.ConverseUsage.ReadAnswer(upstream, ref read);
        Assert.Equal(usage, read);
    }

    [Fact]
    public void Answer_Reasoning_BecomesReasoningEvents_WithTheSignature_AndCacheUsage()
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var call = BedrockFixtures.Call(settings, """{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        var output = new ArrayBufferWriter<byte>();
        var writer = new Common.EventLogWriter();
        writer.Bind(output);

        adapter.DecodeAnswer(BedrockFixtures.Bytes("converse/response-reasoning.converse.json"), call, writer);

        Golden.Assert("converse/response-reasoning.events.txt", Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.True(writer.Completed);
        Assert.Equal(200, writer.Usage.CacheWriteTokens);
    }

    [Fact]
    public void Answer_NotConverse_IsAClearError()
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var call = BedrockFixtures.Call(settings, """{"model":"claude","messages":[]}""");
        var usage = default(Usage);
        var e = Assert.Throws<InvalidUpstreamAnswerException>(() => adapter.TranscodeResponse("""{"unexpected":true}"""u8, call, new ArrayBufferWriter<byte>(), ref usage));
        Assert.Contains("not a Converse answer", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"output":"oops"}""")]
    [InlineData("""{"output":{"message":{"content":["text"]}}}""")]
    [InlineData("""{"output":{"message":{"content":[{"toolUse":{"toolUseId":5,"name":"f","input":{}}}]}},"stopReason":"tool_use"}""")]
    [InlineData("not json")]
    public void Answer_OfAnotherShape_IsAnInvalidUpstreamAnswer_NotACrash(string body)
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var call = BedrockFixtures.Call(settings, """{"model":"claude","messages":[]}""");
        var usage = default(Usage);

        Assert.Throws<InvalidUpstreamAnswerException>(() => adapter.TranscodeResponse(System.Text.Encoding.UTF8.GetBytes(body), call, new ArrayBufferWriter<byte>(), ref usage));
    }
}
