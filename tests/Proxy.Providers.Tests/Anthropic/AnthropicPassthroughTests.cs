using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.Answers;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Tests.Common;
using static Proxy.Providers.Tests.Anthropic.AnthropicTestSupport;

namespace Proxy.Providers.Tests.Anthropic;

/// <summary>
/// A client that speaks Anthropic's Messages API to Anthropic's API: its request goes up byte for byte but for the
/// model, and the stream comes back byte for byte while the gateway reads its usage and its end.
/// </summary>
public class AnthropicPassthroughTests
{
    /// <summary>Unknown fields, cache breakpoints, an order no serializer would choose: all must reach Anthropic as sent.</summary>
    private const string ClientBody =
        """{"max_tokens":1024,"model":"claude-opus","x_future_field":{"a":[1,2.50]},"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"h\u00e9llo"}],"stream":true,"thinking":{"type":"enabled","budget_tokens":2048}}""";

    private static (HttpRequestMessage Request, string Body) Build(string body, IHeaderDictionary? clientHeaders = null, string model = Model)
    {
        var adapter = Adapter();
        var request = adapter.BuildRequest(MessagesCall(adapter, Encoding.UTF8.GetBytes(body), model, clientHeaders));
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    [Fact]
    public void Request_IsTheClientsBytes_WithOnlyTheModelSpliced()
    {
        var (request, body) = Build(ClientBody);

        Assert.Equal(ClientBody.Replace("\"claude-opus\"", "\"claude-sonnet-4-5\"", StringComparison.Ordinal), body);
        Assert.Equal("https://api.anthropic.com/v1/messages", request.RequestUri!.ToString());
        Assert.Equal("text/event-stream", Assert.Single(request.Headers.GetValues("Accept")));
        Assert.Equal(body.Length, request.Content!.Headers.ContentLength);
    }

    [Fact]
    public void Request_PrettyPrinted_KeepsItsLayout()
    {
        var client = "{\n  \"model\" : \"claude-opus\",\n  \"messages\": [ {\"role\": \"user\", \"content\": \"hi\"} ],\n  \"max_tokens\": 5\n}\n";

        var (_, body) = Build(client);

        Assert.Equal(client.Replace("\"claude-opus\"", "\"claude-sonnet-4-5\"", StringComparison.Ordinal), body);
    }

    [Fact]
    public void Request_ToATargetOfTheSameName_IsUntouched()
    {
        var (_, body) = Build(ClientBody, model: "claude-opus");

        Assert.Equal(ClientBody, body);
    }

    [Fact]
    public void Request_Headers_ClientVersionWins_ApiKeyFromConfig_BetaPassed_GatewayKeyNot()
    {
        var client = new HeaderDictionary
        {
            ["anthropic-version"] = "2023-01-01",
            ["anthropic-beta"] = "interleaved-thinking-2025-05-14",
            ["Authorization"] = "Bearer sk-gw-the-gateway-key",
            ["x-api-key"] = "sk-gw-the-gateway-key",
        };

        var (request, _) = Build(ClientBody, client);

        Assert.Equal("2023-01-01", Assert.Single(request.Headers.GetValues("anthropic-version")));
        Assert.Equal("sk-ant-test", Assert.Single(request.Headers.GetValues("x-api-key")));
        Assert.Equal("interleaved-thinking-2025-05-14", Assert.Single(request.Headers.GetValues("anthropic-beta")));
        Assert.False(request.Headers.Contains("Authorization"));
    }

    [Fact]
    public void Request_WithoutTheClientsVersion_SendsTheConfiguredOne()
    {
        var (request, _) = Build(ClientBody);

        Assert.Equal("2023-06-01", Assert.Single(request.Headers.GetValues("anthropic-version")));
    }

    [Fact]
    public void Request_FromAnOpenAiClient_IgnoresAnAnthropicVersionHeader()
    {
        // Only a client that wrote a Messages request chose a version; the translation is written for the configured one.
        var (request, _) = AnthropicTestSupport.Build("""{"model":"c","messages":[{"role":"user","content":"hi"}]}""",
            new HeaderDictionary { ["anthropic-version"] = "2023-01-01" });

        Assert.Equal("2023-06-01", Assert.Single(request.Headers.GetValues("anthropic-version")));
    }

    [Fact]
    public void Adapter_SpeaksMessagesOnly_AndPassesItsStreamsThrough()
    {
        var adapter = Adapter();
        var body = """{"model":"c","stream":true,"messages":[]}"""u8.ToArray();

        Assert.True(adapter.Speaks(Proxy.ClientApis.ApiFormat.AnthropicMessages));
        Assert.False(adapter.Speaks(Proxy.ClientApis.ApiFormat.OpenAiChat));
        Assert.IsType<AnthropicPassthroughTranscoder>(adapter.CreateStreamTranscoder(MessagesCall(adapter, body)));
        Assert.IsType<DecodingTranscoder>(adapter.CreateStreamTranscoder(Call(adapter, body)));
    }

    [Theory]
    [InlineData("text.stream.sse")]
    [InlineData("thinking.stream.sse")]
    [InlineData("tool-use.stream.sse")]
    [InlineData("max-tokens.stream.sse")]
    [InlineData("cache-usage.stream.sse")]
    [InlineData("error.stream.sse")]
    public void Stream_PassesThroughByteForByte_AtEveryOffset(string stream)
    {
        var bytes = Fixture.Bytes("Anthropic", stream);

        var (output, state) = Rechunk.EveryOffset(() => new AnthropicPassthroughTranscoder(), bytes);

        Assert.Equal(Encoding.UTF8.GetString(bytes), output);
        Assert.True(state.Completed ^ state.Failed);
        Assert.True(state.Usage.Reported);
    }

    [Fact]
    public void Stream_Usage_IsMessageStartsThenMessageDeltasCumulativeCounts_Normalized()
    {
        var (_, state) = Rechunk.EveryOffset(() => new AnthropicPassthroughTranscoder(), Fixture.Bytes("Anthropic", "cache-usage.stream.sse"));

        Assert.True(state.Completed);
        Assert.Equal(new Usage { PromptTokens = 1812, CompletionTokens = 42, CachedTokens = 0, CacheWriteTokens = 1800, Reported = true }, state.Usage);
    }

    [Fact]
    public void Stream_CacheReads_CountAsCachedPromptTokens()
    {
        var (_, state) = Rechunk.EveryOffset(() => new AnthropicPassthroughTranscoder(), Fixture.Bytes("Anthropic", "text.stream.sse"));

        Assert.Equal(new Usage { PromptTokens = 1025, CompletionTokens = 15, CachedTokens = 1000, Reported = true }, state.Usage);
    }

    [Fact]
    public void Stream_ErrorEvent_IsPassedOnAndFails()
    {
        var (output, state) = Rechunk.EveryOffset(() => new AnthropicPassthroughTranscoder(), Fixture.Bytes("Anthropic", "error.stream.sse"));

        Assert.True(state.Failed);
        Assert.False(state.Completed);
        // This fixture's lines end in CRLF, as some servers and proxies write them: passed on as they are.
        Assert.EndsWith("event: error\r\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"req_011\"}\r\n\r\n", output, StringComparison.Ordinal);
        Assert.Equal(10, state.Usage.PromptTokens);
    }

    [Fact]
    public void Stream_CutBeforeMessageStop_IsNotCompleted()
    {
        var whole = Fixture.Bytes("Anthropic", "text.stream.sse");
        var cut = whole.AsSpan(0, whole.AsSpan().IndexOf("event: message_stop"u8)).ToArray();

        var (output, state) = Rechunk.EveryOffset(() => new AnthropicPassthroughTranscoder(), cut);

        Assert.Equal(Encoding.UTF8.GetString(cut), output);
        Assert.False(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal(15, state.Usage.CompletionTokens);
    }

    [Fact]
    public void Stream_CommentsUnknownEventsAndBrokenData_PassAsTheyCame()
    {
        var stream = ": keep-alive\n\nevent: something_new\ndata: {\"type\":\"something_new\",\"x\":1}\n\nevent: content_block_delta\ndata: {broken\n\n"u8.ToArray();

        var (output, state) = Rechunk.EveryOffset(() => new AnthropicPassthroughTranscoder(), stream);

        Assert.Equal(Encoding.UTF8.GetString(stream), output);
        Assert.Equal(3, state.EventsWritten);
        Assert.False(state.Completed || state.Failed);
    }
}
