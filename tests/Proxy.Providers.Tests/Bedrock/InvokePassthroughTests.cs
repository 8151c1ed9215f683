using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.ClientApis;
using Proxy.Providers.Bedrock;
using Proxy.Providers.Bedrock.Invoke;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>
/// A Messages client's request to Claude on Bedrock: its own bytes to InvokeModel, the model out (the URL names it),
/// Bedrock's anthropic_version in its place, stream out (the operation says it), betas into the body; the plain answer
/// as Anthropic's Message, the event stream unwrapped into Anthropic's SSE at every byte split.
/// </summary>
public class InvokePassthroughTests
{
    private const string Claude = "anthropic.claude-sonnet-4-5-20250929-v1:0";

    private static UpstreamCall MessagesCall(BedrockAdapter adapter, string body, string model = Claude, IHeaderDictionary? headers = null,
        Operation operation = Operation.ChatCompletions) =>
        Fixture.Call(adapter.Settings, Encoding.UTF8.GetBytes(body), model, operation, headers) with
        {
            Api = operation == Operation.CountTokens ? ClientApi.AnthropicCountTokens : ClientApi.AnthropicMessages,
        };

    private static (HttpRequestMessage Request, string Body) Build(string body, string model = Claude, IHeaderDictionary? headers = null)
    {
        using var adapter = BedrockFixtures.Adapter();
        var request = adapter.BuildRequest(MessagesCall(adapter, body, model, headers));
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    [Theory]
    [InlineData(Claude, true)]
    [InlineData("us.anthropic.claude-3-7-sonnet-20250219-v1:0", true)]
    [InlineData("arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0", true)]
    [InlineData("meta.llama3-70b-instruct-v1:0", false)]
    [InlineData("amazon.nova-pro-v1:0", false)]
    [InlineData("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", false)] // says no model: Converse
    public void PassesThrough_OnlyMessagesClientsOfClaudeModels(string model, bool expected)
    {
        using var adapter = BedrockFixtures.Adapter();
        const string body = """{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""";

        Assert.True(adapter.Speaks(ApiFormat.AnthropicMessages));
        Assert.Equal(expected, adapter.PassesThrough(MessagesCall(adapter, body, model)));
        Assert.Equal(expected, MessagesCall(adapter, body, model) is var call && adapter.CreateStreamTranscoder(call) is InvokeStreamTranscoder);
        Assert.False(adapter.PassesThrough(BedrockFixtures.Call(adapter.Settings, body, model)));  // an OpenAI chat client
        Assert.False(adapter.PassesThrough(MessagesCall(adapter, body, model, operation: Operation.CountTokens)));
    }

    [Fact]
    public void Request_IsTheClientsBytes_ModelBecomesTheVersion_StreamOut_ToInvokeWithResponseStream()
    {
        const string client =
            """{"max_tokens":1024,"model":"claude-opus","x_future_field":{"a":[1,2.50]},"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"h\u00e9llo \"stream\""}],"stream":true}""";

        var (request, body) = Build(client);

        Assert.Equal(client.Replace("\"model\":\"claude-opus\"", "\"anthropic_version\":\"bedrock-2023-05-31\"", StringComparison.Ordinal)
            .Replace(",\"stream\":true", "", StringComparison.Ordinal), body);
        Assert.Equal(body.Length, request.Content!.Headers.ContentLength);
        Assert.Equal("https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
            request.RequestUri!.ToString());
        Assert.Equal("application/vnd.amazon.eventstream", Assert.Single(request.Headers.GetValues("Accept")));
    }

    [Fact]
    public void Request_Plain_GoesToInvoke()
    {
        var (request, body) = Build("""{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", "us.anthropic.claude-3-7-sonnet-20250219-v1:0");

        Assert.Equal("https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/invoke", request.RequestUri!.ToString());
        Assert.Equal("""{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", body);
    }

    [Theory]
    // The client's own anthropic_version is kept; model and stream each go with one comma, wherever they are.
    [InlineData("""{"stream":true,"model":"m","anthropic_version":"v","max_tokens":1}""", """{"anthropic_version":"v","max_tokens":1}""")]
    [InlineData("""{"model":"m","stream":false,"anthropic_version":"v"}""", """{"anthropic_version":"v"}""")]
    [InlineData("""{"anthropic_version":"v","stream":true,"model":"m"}""", """{"anthropic_version":"v"}""")]
    [InlineData("{\n  \"model\": \"m\",\n  \"max_tokens\": 1,\n  \"stream\": true\n}", "{\n  \"anthropic_version\":\"bedrock-2023-05-31\",\n  \"max_tokens\": 1\n}")]
    // "stream" elsewhere (a message, a nested key) stays.
    [InlineData("""{"model":"m","metadata":{"stream":true},"messages":[{"role":"user","content":"\"stream\":true"}]}""",
        """{"anthropic_version":"bedrock-2023-05-31","metadata":{"stream":true},"messages":[{"role":"user","content":"\"stream\":true"}]}""")]
    public void Request_Body_IsSplicedForBedrock(string client, string expected)
    {
        var (_, body) = Build(client);

        Assert.Equal(expected, body);
    }

    [Fact]
    public void Request_AnthropicBetaHeader_BecomesTheBodysList_UnlessTheBodyHasOne()
    {
        var headers = new HeaderDictionary { ["anthropic-beta"] = new(["context-1m-2025-08-07, interleaved-thinking-2025-05-14", "token-efficient-tools-2025-02-19"]) };

        var (request, body) = Build("""{"model":"m","max_tokens":1,"stream":true}""", headers: headers);

        Assert.Equal(
            """{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"anthropic_beta":["context-1m-2025-08-07","interleaved-thinking-2025-05-14","token-efficient-tools-2025-02-19"]}""",
            body);
        Assert.False(request.Headers.Contains("anthropic-beta"));
        Assert.Equal("""{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["a"]}""", Build("""{"model":"m"}""", headers: new HeaderDictionary { ["anthropic-beta"] = "a" }).Body);
        Assert.Equal("""{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["mine"]}""",
            Build("""{"model":"m","anthropic_beta":["mine"]}""", headers: new HeaderDictionary { ["anthropic-beta"] = "a" }).Body);
    }

    [Fact]
    public void Request_IsSigned_OverTheSplicedBytes()
    {
        var (request, body) = Build("""{"model":"m","max_tokens":1,"stream":true}""");

        Assert.IsAssignableFrom<Proxy.Providers.Bedrock.SigV4.ISignablePayload>(request.Content);
        Assert.Equal(body, Encoding.UTF8.GetString(((Proxy.Providers.Bedrock.SigV4.ISignablePayload)request.Content!).Payload.Span));
    }

    [Fact]
    public void Answer_Plain_UsageIsReadAsAnthropics()
    {
        using var adapter = BedrockFixtures.Adapter();
        var usage = default(Usage);

        adapter.ReadUsage("""{"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":3}}"""u8, ref usage);

        Assert.Equal((115L, 3L, 100L, 5L, true), (usage.PromptTokens, usage.CompletionTokens, usage.CachedTokens, usage.CacheWriteTokens, usage.Reported));
    }

    [Fact]
    public void Stream_Text_BecomesAnthropicSse_WithUsage_AndWithoutBedrockMetrics()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder, Chunks("text"));

        Golden.Assert("invoke/text.sse", output);
        Assert.DoesNotContain("amazon-bedrock", output, StringComparison.Ordinal);
        Assert.Contains("\"text\":\"Hello \\\"w\\u00f6rld\\\"\\n\"", output, StringComparison.Ordinal); // escaped as the upstream sent it
        Assert.True(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal(8, state.EventsWritten);
        Assert.Equal((1836L, 7L, 1800L, 24L, true),
            (state.Usage.PromptTokens, state.Usage.CompletionTokens, state.Usage.CachedTokens, state.Usage.CacheWriteTokens, state.Usage.Reported));
    }

    [Fact]
    public void Stream_ToolUse_PassesEveryEventOn()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder, Chunks("tool-use"));

        Golden.Assert("invoke/tool-use.sse", output);
        Assert.True(state.Completed);
        Assert.Equal((386L, 75L), (state.Usage.PromptTokens, state.Usage.CompletionTokens));
    }

    [Fact]
    public void Stream_ExceptionFrame_EndsWithTheClientsErrorEvent()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder, Chunks("throttled"));

        Golden.Assert("invoke/throttled.sse", output);
        Assert.True(state.Failed);
        Assert.False(state.Completed);
        Assert.Contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("never sent", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ChunkThatIsNotBase64Json_FailsTheStream()
    {
        var stream = Concat(Chunk("""{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}"""),
            EventStreamEncoder.Event("chunk", """{"bytes":"not base64!"}"""), Chunk("""{"type":"message_stop"}"""));

        var (output, state) = Rechunk.EveryOffset(Transcoder, stream);

        Assert.True(state.Failed);
        Assert.False(state.Completed);
        Assert.Contains("event: error", output, StringComparison.Ordinal);
        Assert.Contains("not a base64-wrapped JSON event", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_AnthropicErrorEvent_PassesOn_AndFails()
    {
        var stream = Concat(Chunk("""{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}"""),
            Chunk("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));

        var (output, state) = Rechunk.EveryOffset(Transcoder, stream);

        Assert.True(state.Failed);
        Assert.EndsWith("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_EventWithLineBreaks_IsWrittenAsSeveralDataLines()
    {
        var stream = Concat(Chunk("{\"type\":\"message_stop\",\n \"x\":1}"));

        var (output, state) = Rechunk.EveryOffset(Transcoder, stream);

        Assert.True(state.Completed);
        Assert.Equal("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", output);
        var (ping, _) = Rechunk.EveryOffset(Transcoder, Chunk("{\"type\":\"ping\",\r\n\"x\":1}"));
        Assert.Equal("event: ping\ndata: {\"type\":\"ping\",\ndata: \"x\":1}\n\n", ping);
    }

    private static Func<StreamTranscoder> Transcoder => () => new InvokeStreamTranscoder(ClientApi.AnthropicMessages, "bedrock");

    /// <summary>
    /// A stream described as [{"chunk": EVENT}, {"exception": TYPE, "payload": {...}}]: each chunk as Bedrock sends it, the
    /// event's JSON (as written in the file) base64'd into a "chunk" frame's {"bytes"}.
    /// </summary>
    private static byte[] Chunks(string name)
    {
        using var doc = JsonDocument.Parse(BedrockFixtures.Text($"invoke/{name}.chunks.json"));
        return Concat([.. doc.RootElement.EnumerateArray().Select(frame => frame.TryGetProperty("chunk", out var chunk)
            ? Chunk(chunk.GetRawText())
            : EventStreamEncoder.Exception(frame.GetProperty("exception").GetString()!, frame.GetProperty("payload").GetRawText()))]);
    }

    private static byte[] Chunk(string eventJson) =>
        EventStreamEncoder.Event("chunk", "{\"bytes\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(eventJson)) + "\",\"p\":\"abcdefgh\"}");

    private static byte[] Concat(params byte[][] frames) => [.. frames.SelectMany(f => f)];
}
