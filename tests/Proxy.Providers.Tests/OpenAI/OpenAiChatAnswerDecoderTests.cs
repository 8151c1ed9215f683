using System.Buffers;
using System.Text;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Providers.OpenAI;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.OpenAI;

/// <summary>Whole OpenAI chat completions decoded into neutral events, and written again as OpenAI completions.</summary>
public class OpenAiChatAnswerDecoderTests
{
    private static string[] Decode(byte[] body)
    {
        var writer = new RecordingAnswerWriter();
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);
        OpenAiChatAnswerDecoder.Decode(body, writer);
        Assert.True(writer.Completed);
        return RecordingAnswerWriter.Lines(Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static string[] Decode(string body) => Decode(Encoding.UTF8.GetBytes(body));

    [Fact]
    public void Text_IsCopiedAsTheUpstreamEscapedIt_WithCachedTokens()
    {
        Assert.Equal(
        [
            """start "chatcmpl-CDmF2aB3cD4eF5gH6iJ7kL8mN9oP0" "gpt-4o-mini-2024-07-18" """.TrimEnd(),
            """text "Hello! The café opens at 8 a.m.\n\n\"Welcome\"" """.TrimEnd(),
            "finish Stop",
            "end usage 1370/14 cached 1152",
        ], Decode(Fixture.Bytes("OpenAI", "text.json")));
    }

    [Fact]
    public void ParallelToolCalls_EachStartsAndCarriesItsArgumentsWhole()
    {
        Assert.Equal(
        [
            """start "chatcmpl-CDmG3bC4dE5fG6hI7jK8lM9nO0pQ1" "gpt-4o-2024-08-06" """.TrimEnd(),
            """tool 0 "call_3Qf8Zr2mKp1XyT7vLw9nB4sD" "get_weather" """.TrimEnd(),
            """args 0 "{\"location\":\"Paris, France\"}" """.TrimEnd(),
            """tool 1 "call_8Hn2Vc5xQe4RtY1uIo0pAs6D" "get_time" """.TrimEnd(),
            """args 1 "{\"timezone\":\"Europe/Paris\"}" """.TrimEnd(),
            "finish ToolCalls",
            "end usage 112/52 cached 0",
        ], Decode(Fixture.Bytes("OpenAI", "tools.json")));
    }

    [Fact]
    public void ReasoningContent_ComesBeforeTheText()
    {
        Assert.Equal(
        [
            """start "3b1f2a6c-7d4e-4f8a-9c2b-5e6d7f8a9b0d" "deepseek-reasoner" """.TrimEnd(),
            """reasoning "The user asks 9.11 vs 9.8.\nCompare decimals: 0.11 < 0.8." """.TrimEnd(),
            """text "9.8 is larger." """.TrimEnd(),
            "finish Stop",
            "end usage 18/96 cached 0",
        ], Decode(Fixture.Bytes("OpenAI", "reasoning.json")));
    }

    [Fact]
    public void Refusal_IsText()
    {
        var events = Decode(Fixture.Bytes("OpenAI", "refusal.json"));

        Assert.Equal("""text "I'm sorry, I can't help with that." """.TrimEnd(), events[1]);
        Assert.Equal("finish Stop", events[2]);
    }

    [Fact]
    public void ArgumentsSentAsAnObject_BecomeTheStringOpenAiWouldSend()
    {
        var events = Decode("""{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":{"x":1}}},{"id":"b","type":"function","function":{"name":"g"}}]},"finish_reason":"tool_calls"}]}""");

        Assert.Equal(["""start "c" "m" """.TrimEnd(), """tool 0 "a" "f" """.TrimEnd(), """args 0 "{\"x\":1}" """.TrimEnd(), """tool 1 "b" "g" """.TrimEnd(),
            "finish ToolCalls", "end"], events);
    }

    [Fact]
    public void OnlyChoiceZero_IsRead_AndTheTopLevelOrderDoesNotMatter()
    {
        var events = Decode("""{"usage":{"prompt_tokens":3,"completion_tokens":2},"choices":[{"message":{"content":"B"},"index":1,"finish_reason":"length"},{"finish_reason":"stop","message":{"content":null},"index":0}],"model":"m","id":"c"}""");

        Assert.Equal(["""start "c" "m" """.TrimEnd(), "finish Stop", "end usage 3/2 cached 0"], events);
    }

    [Theory]
    [InlineData("""{"error":{"message":"upstream overloaded","type":"server_error"}}""", "the answer has no choices; it says: upstream overloaded")]
    [InlineData("""{"id":"c","choices":[]}""", "the answer has no choices")]
    [InlineData("""[1,2]""", "the answer is not a JSON object")]
    [InlineData("""<html>Bad gateway</html>""", "the answer is not valid JSON")]
    public void AnswerWithoutChoices_OrUnreadable_IsInvalid(string body, string message)
    {
        var writer = new RecordingAnswerWriter();
        writer.Bind(new ArrayBufferWriter<byte>());

        var e = Assert.Throws<InvalidUpstreamAnswerException>(() => OpenAiChatAnswerDecoder.Decode(Encoding.UTF8.GetBytes(body), writer));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text.json")]
    [InlineData("tools.json")]
    [InlineData("reasoning.json")]
    public void AnswerCutAtAnyByte_IsInvalid(string fixture)
    {
        var body = Fixture.Bytes("OpenAI", fixture);
        int end = Array.LastIndexOf(body, (byte)'}') + 1;
        for (int length = 0; length < end; length++)
        {
            var writer = new RecordingAnswerWriter();
            writer.Bind(new ArrayBufferWriter<byte>());
            Assert.Throws<InvalidUpstreamAnswerException>(() => OpenAiChatAnswerDecoder.Decode(body.AsSpan(0, length), writer));
            Assert.False(writer.Completed);
        }
    }

    [Theory]
    [InlineData("text.json")]
    [InlineData("tools.json")]
    [InlineData("reasoning.json")]
    [InlineData("refusal.json")]
    public void RewrittenAsAnOpenAiCompletion_SaysWhatTheUpstreamSaid(string fixture)
    {
        var body = Fixture.Bytes("OpenAI", fixture);
        var writer = new ChatCompletionWriter(1_700_000_000);
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);

        OpenAiChatAnswerDecoder.Decode(body, writer);

        Assert.Equal(ChatSummary.FromCompletion(Encoding.UTF8.GetString(body)), ChatSummary.FromCompletion(Encoding.UTF8.GetString(output.WrittenSpan)));
    }
}
