using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Anthropic;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The official Anthropic TypeScript SDK (npm @anthropic-ai/sdk), unchanged, through the gateway's /v1/messages: to an
/// Anthropic upstream (passthrough) and to providers that speak another API (translated both ways).
/// </summary>
public sealed class AnthropicSdkNodeTests
{
    private const string Script = "anthropic-sdk.cjs";

    private static readonly string[] AnthropicEventOrder =
        ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"];

    [Fact]
    public async Task Anthropic_Passthrough_PlainAndStream()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx => FakeUpstream.Recorded(ctx).BodyText.Contains("\"stream\":true", StringComparison.Ordinal)
            ? Upstream.Sse(ctx, AnthropicUpstream.TextStream) : Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);

        var plain = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", env.Gateway.BaseUrl, "claude-test"));
        Assert.Equal("Hello from Claude é ✓", plain.GetProperty("text").GetString());
        Assert.Equal("end_turn", plain.GetProperty("stop_reason").GetString());
        Assert.Equal(4, plain.GetProperty("usage").GetProperty("cache_read_input_tokens").GetInt32());

        var stream = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "stream", env.Gateway.BaseUrl, "claude-test"));
        Assert.Equal("Hello", stream.GetProperty("text").GetString());
        Assert.Equal(AnthropicEventOrder, Events(stream).Distinct());
    }

    [Fact]
    public async Task Anthropic_Passthrough_ToolRoundTripAndCountTokens()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx =>
        {
            var recorded = FakeUpstream.Recorded(ctx);
            if (recorded.Path.EndsWith("/count_tokens", StringComparison.Ordinal)) return Upstream.Json(ctx, 200, """{"input_tokens":14}""");
            return Upstream.Json(ctx, 200, recorded.BodyText.Contains("tool_result", StringComparison.Ordinal) ? AnthropicUpstream.TextMessage : AnthropicUpstream.ToolUseMessage);
        };

        var tools = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "tools", env.Gateway.BaseUrl, "claude-test"));
        var call = tools.GetProperty("first").GetProperty("tools")[0];
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.Equal("Paris", call.GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("Hello from Claude é ✓", tools.GetProperty("second").GetProperty("text").GetString());

        var count = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "count_tokens", env.Gateway.BaseUrl, "claude-test"));
        Assert.Equal(14, count.GetProperty("input_tokens").GetInt32());
        Assert.Contains(env.Upstream.Requests, r => r.Path == "/v1/messages/count_tokens");
    }

    [Fact]
    public async Task Mock_Translated_PlainStreamAndErrors()
    {
        await using var env = await TestEnv.StartAsync();

        var plain = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", env.Gateway.BaseUrl, "mock-gpt"));
        Assert.False(string.IsNullOrEmpty(plain.GetProperty("text").GetString()));
        Assert.Equal("end_turn", plain.GetProperty("stop_reason").GetString());
        Assert.Equal(5, plain.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.True(plain.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);

        var stream = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "stream", env.Gateway.BaseUrl, "mock-gpt"));
        Assert.Equal(plain.GetProperty("text").GetString(), stream.GetProperty("text").GetString());
        Assert.Equal(AnthropicEventOrder, Events(stream).Distinct());
        Assert.Equal(5, stream.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        var unknown = await NodeSdk.RunAsync(Script, "unknown_model", env.Gateway.BaseUrl, "mock-gpt");
        Assert.False(unknown.GetProperty("ok").GetBoolean());
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Equal("not_found_error", unknown.GetProperty("type").GetString());

        // No token counting API behind the mock: a clear 400, never an invented number.
        var count = await NodeSdk.RunAsync(Script, "count_tokens", env.Gateway.BaseUrl, "mock-gpt");
        Assert.False(count.GetProperty("ok").GetBoolean());
        Assert.Equal(400, count.GetProperty("status").GetInt32());
        Assert.Contains("count_tokens", count.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAiUpstream_Translated_ToolRoundTripStreamed()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx =>
        {
            var body = FakeUpstream.Recorded(ctx).BodyText;
            bool answered = body.Contains("\"role\":\"tool\"", StringComparison.Ordinal);
            if (!body.Contains("\"stream\":true", StringComparison.Ordinal))
                return Upstream.Json(ctx, 200, answered ? Upstream.Completion : OpenAiToolCompletion);
            return Upstream.Sse(ctx, answered ? Upstream.FullStream : OpenAiToolStream);
        };

        var tools = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "tools", env.Gateway.BaseUrl, "gpt-test"));
        var call = tools.GetProperty("first").GetProperty("tools")[0];
        Assert.Equal(("call_1", "get_weather"), (call.GetProperty("id").GetString(), call.GetProperty("name").GetString()));
        Assert.Equal("Paris", call.GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("tool_use", tools.GetProperty("first").GetProperty("stop_reason").GetString());
        Assert.Equal("Hello from upstream é ✓", tools.GetProperty("second").GetProperty("text").GetString());
        // The tool result went up as OpenAI's tool message for the call's id.
        Assert.Contains(env.Upstream.Requests, r => r.BodyText.Contains("\"tool_call_id\":\"call_1\"", StringComparison.Ordinal));

        var streamed = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "stream_tools", env.Gateway.BaseUrl, "gpt-test"));
        var streamedCall = streamed.GetProperty("tools")[0];
        Assert.Equal("Rome", streamedCall.GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("tool_use", streamed.GetProperty("stop_reason").GetString());
        Assert.Equal(7, streamed.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    private const string OpenAiToolCompletion = """{"id":"chatcmpl-t1","object":"chat.completion","created":1700000000,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}}""";

    private static readonly string[] OpenAiToolStream =
    [
        Upstream.Event("""{"id":"chatcmpl-t2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"""),
        Upstream.Event("""{"id":"chatcmpl-t2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}"""),
        Upstream.Event("""{"id":"chatcmpl-t2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Rome\"}"}}]},"finish_reason":null}]}"""),
        Upstream.Event("""{"id":"chatcmpl-t2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"""),
        Upstream.Event("""{"id":"chatcmpl-t2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37}}"""),
        Upstream.Done,
    ];

    private static IEnumerable<string> Events(JsonElement result) => result.GetProperty("events").EnumerateArray().Select(e => e.GetString()!);
}
