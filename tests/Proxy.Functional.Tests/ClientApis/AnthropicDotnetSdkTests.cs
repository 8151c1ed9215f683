using System.Net;
using Anthropic.Exceptions;
using Anthropic.Models;
using Anthropic.Models.Messages;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Anthropic;
using static Proxy.Functional.Tests.ClientApis.AnthropicDotnetSdk;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The official Anthropic .NET SDK, unchanged, through the gateway's /v1/messages: to an Anthropic upstream
/// (passthrough) and to providers that speak another API (translated both ways). The npm SDK runs the same
/// scenarios in <see cref="AnthropicSdkNodeTests"/>.
/// </summary>
public sealed class AnthropicDotnetSdkTests
{
    private static readonly string[] AnthropicEventOrder =
        ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"];

    private static bool IsStream(Microsoft.AspNetCore.Http.HttpContext ctx) =>
        FakeUpstream.Recorded(ctx).BodyText.Contains("\"stream\":true", StringComparison.Ordinal);

    [Fact]
    public async Task Anthropic_Passthrough_Plain_TextStopReasonAndCacheUsage()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);
        using var client = Client(env);

        var message = await client.Messages.Create(Ask("claude-test", "Say hello"), Timeout());

        Assert.Equal("Hello from Claude é ✓", Text(message));
        Assert.Equal("msg_01", message.ID);
        Assert.Equal(StopReason.EndTurn, message.StopReason?.Value());
        Assert.Equal((9, 4, 0, 6), (message.Usage.InputTokens, message.Usage.CacheReadInputTokens, message.Usage.CacheCreationInputTokens, message.Usage.OutputTokens));
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/v1/messages", received.Path);
        Assert.Equal(TestKeys.UpstreamSecret, received.Headers["x-api-key"]);
        // The SDK pins its own API version (2026-10-21 in 13.15.0); the gateway passes the client's on, whatever it is.
        Assert.False(string.IsNullOrEmpty(received.Headers["anthropic-version"]));
        Assert.Contains("\"model\":\"claude-sonnet-4-5\"", received.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anthropic_Passthrough_Stream_TextDeltasAndFinalUsage()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, AnthropicUpstream.TextStream);
        using var client = Client(env);

        var streamed = await StreamAsync(client, Ask("claude-test", "Say hello"));

        Assert.Equal("Hello", streamed.Text);
        Assert.Equal(AnthropicEventOrder, streamed.Events.Distinct());
        Assert.Equal(2, streamed.Usage?.OutputTokens);
        Assert.Equal("Hello", Text(streamed.Final));
        Assert.Equal(StopReason.EndTurn, streamed.Final.StopReason?.Value());
        Assert.Equal((9, 2), (streamed.Final.Usage.InputTokens, streamed.Final.Usage.OutputTokens));
    }

    [Fact]
    public async Task Anthropic_Passthrough_ToolRoundTrip_PlainAndStreamed()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx =>
        {
            bool answered = FakeUpstream.Recorded(ctx).BodyText.Contains("tool_result", StringComparison.Ordinal);
            if (IsStream(ctx)) return Upstream.Sse(ctx, answered ? AnthropicUpstream.TextStream : AnthropicUpstream.ToolStream);
            return Upstream.Json(ctx, 200, answered ? AnthropicUpstream.TextMessage : AnthropicUpstream.ToolUseMessage);
        };
        using var client = Client(env);

        var first = await client.Messages.Create(Ask("claude-test", "Weather in Paris?", withTools: true), Timeout());
        var call = ToolCall(first);
        Assert.Equal(("toolu_01", "get_weather"), (call.ID, call.Name));
        Assert.Equal("Paris", call.Input["city"].GetString());
        Assert.Equal(StopReason.ToolUse, first.StopReason?.Value());

        var second = await client.Messages.Create(AnswerTool("claude-test", "Weather in Paris?", call, "18C and sunny"), Timeout());
        Assert.Equal("Hello from Claude é ✓", Text(second));
        Assert.Contains(env.Upstream.Requests, r => r.BodyText.Contains("\"tool_use_id\":\"toolu_01\"", StringComparison.Ordinal));

        var streamedFirst = await StreamAsync(client, Ask("claude-test", "Weather in Rome?", withTools: true));
        var streamedCall = ToolCall(streamedFirst.Final);
        Assert.Equal(("toolu_09", "Rome"), (streamedCall.ID, streamedCall.Input["city"].GetString()));
        Assert.Equal(StopReason.ToolUse, streamedFirst.Final.StopReason?.Value());
        Assert.Equal(12, streamedFirst.Usage?.OutputTokens);

        var streamedSecond = await StreamAsync(client, AnswerTool("claude-test", "Weather in Rome?", streamedCall, "21C"));
        Assert.Equal("Hello", streamedSecond.Text);
    }

    [Fact]
    public async Task Anthropic_Passthrough_Overloaded529_IsTheSdksExceptionWith529()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx => AnthropicUpstream.Error(ctx, 529, "overloaded_error", "Overloaded", ("retry-after", "7"));
        using var client = Client(env);

        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("claude-test", "Say hello"), Timeout()));

        Assert.Equal(529, (int)error.StatusCode);
        Assert.IsType<AnthropicOverloadedException>(error);
        Assert.Equal(ErrorType.OverloadedError, error.Type?.Value());
        Assert.Equal("Overloaded", error.ApiMessage);
        // Retries off in the SDK: one try, not a wait on the upstream's retry-after.
        Assert.Single(env.Upstream.Requests);
    }

    [Fact]
    public async Task Anthropic_Passthrough_CountTokens()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, """{"input_tokens":14}""");
        using var client = Client(env);

        var count = await client.Messages.CountTokens(new MessageCountTokensParams { Model = "claude-test", Messages = [new UserMessageParam("Say hello")] }, Timeout());

        Assert.Equal(14, count.InputTokens);
        Assert.Equal("/v1/messages/count_tokens", (await env.Upstream.FirstRequest()).Path);
    }

    [Fact]
    public async Task Mock_Translated_PlainAndStream_TextAndUsage()
    {
        await using var env = await TestEnv.StartAsync();
        using var client = Client(env);

        var message = await client.Messages.Create(Ask("mock-gpt", "Say hello"), Timeout());
        Assert.Equal(MockTests.FiveTokens, Text(message));
        Assert.Equal(StopReason.EndTurn, message.StopReason?.Value());
        Assert.Equal(5, message.Usage.OutputTokens);
        Assert.True(message.Usage.InputTokens > 0);

        var streamed = await StreamAsync(client, Ask("mock-gpt", "Say hello"));
        Assert.Equal(MockTests.FiveTokens, streamed.Text);
        Assert.Equal(AnthropicEventOrder, streamed.Events.Distinct());
        Assert.Equal(5, streamed.Usage?.OutputTokens);
        Assert.Equal(MockTests.FiveTokens, Text(streamed.Final));
        Assert.Equal(StopReason.EndTurn, streamed.Final.StopReason?.Value());
    }

    [Fact]
    public async Task Mock_UnknownModel_IsTheSdksNotFoundException()
    {
        await using var env = await TestEnv.StartAsync();
        using var client = Client(env);

        var error = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Messages.Create(Ask("no-such-model", "x"), Timeout()));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal(ErrorType.NotFoundError, error.Type?.Value());
    }

    [Fact]
    public async Task Mock_CountTokens_IsAClearBadRequest()
    {
        await using var env = await TestEnv.StartAsync();
        using var client = Client(env);

        // No token counting API behind the mock: a clear 400, never an invented number.
        var error = await Assert.ThrowsAsync<AnthropicBadRequestException>(
            () => client.Messages.CountTokens(new MessageCountTokensParams { Model = "mock-gpt", Messages = [new UserMessageParam("Say hello")] }, Timeout()));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("count_tokens", error.ApiMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAiUpstream_Translated_ToolRoundTrip_PlainAndStreamed()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx =>
        {
            bool answered = FakeUpstream.Recorded(ctx).BodyText.Contains("\"role\":\"tool\"", StringComparison.Ordinal);
            if (IsStream(ctx)) return Upstream.Sse(ctx, answered ? Upstream.FullStream : OpenAiToolStream);
            return Upstream.Json(ctx, 200, answered ? Upstream.Completion : OpenAiToolCompletion);
        };
        using var client = Client(env);

        var first = await client.Messages.Create(Ask("gpt-test", "Weather in Paris?", withTools: true), Timeout());
        var call = ToolCall(first);
        Assert.Equal(("call_1", "get_weather"), (call.ID, call.Name));
        Assert.Equal("Paris", call.Input["city"].GetString());
        Assert.Equal(StopReason.ToolUse, first.StopReason?.Value());
        Assert.Equal((30, 9), (first.Usage.InputTokens, first.Usage.OutputTokens));

        var second = await client.Messages.Create(AnswerTool("gpt-test", "Weather in Paris?", call, "18C and sunny"), Timeout());
        Assert.Equal("Hello from upstream é ✓", Text(second));
        Assert.Equal(StopReason.EndTurn, second.StopReason?.Value());
        // The tool result went up as OpenAI's tool message for the call's id.
        Assert.Contains(env.Upstream.Requests, r => r.BodyText.Contains("\"tool_call_id\":\"call_1\"", StringComparison.Ordinal));

        var streamedFirst = await StreamAsync(client, Ask("gpt-test", "Weather in Rome?", withTools: true));
        var streamedCall = ToolCall(streamedFirst.Final);
        Assert.Equal(("call_2", "get_weather", "Rome"), (streamedCall.ID, streamedCall.Name, streamedCall.Input["city"].GetString()));
        Assert.Equal(StopReason.ToolUse, streamedFirst.Final.StopReason?.Value());
        Assert.Equal(7, streamedFirst.Usage?.OutputTokens);

        var streamedSecond = await StreamAsync(client, AnswerTool("gpt-test", "Weather in Rome?", streamedCall, "21C"));
        Assert.Equal("Hello", streamedSecond.Text);
        Assert.Equal(StopReason.EndTurn, streamedSecond.Final.StopReason?.Value());
        Assert.Contains(env.Upstream.Requests, r => r.BodyText.Contains("\"tool_call_id\":\"call_2\"", StringComparison.Ordinal));
    }

    // The OpenAI answers AnthropicSdkNodeTests scripts for the same scenario (kept private there).
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
}
