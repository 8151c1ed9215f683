using System.Net;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Anthropic;

/// <summary>The real gateway in front of a fake Anthropic upstream on loopback, with plain HTTP clients.</summary>
public sealed class AnthropicGatewayTests
{
    private static Task<TestEnv> Start() => TestEnv.StartAsync(AnthropicUpstream.Config);

    [Fact]
    public async Task Plain_IsTranslatedBothWays_WithApiKeyVersionAndBetaHeader()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);

        using var request = env.Gateway.Request(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"claude-test","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"max_tokens":50}""");
        request.Headers.Add("anthropic-beta", "context-1m-2025-08-07");
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choice = answer.RootElement.GetProperty("choices")[0];
        Assert.Equal("Hello from Claude é ✓", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = answer.RootElement.GetProperty("usage");
        Assert.Equal(13, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());

        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/v1/messages", received.Path);
        Assert.Equal(TestKeys.UpstreamSecret, received.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", received.Headers["anthropic-version"]);
        Assert.Equal("context-1m-2025-08-07", received.Headers["anthropic-beta"]);
        Assert.False(received.Headers.ContainsKey("Authorization")); // the gateway key stays at the gateway
        using var sent = JsonDocument.Parse(received.Body);
        Assert.Equal("claude-sonnet-4-5", sent.RootElement.GetProperty("model").GetString());
        Assert.Equal(50, sent.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Be brief.", sent.RootElement.GetProperty("system").GetString());
    }

    [Fact]
    public async Task Overloaded529_Becomes503WithRetryAfter()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => AnthropicUpstream.Error(ctx, 529, "overloaded_error", "Overloaded", ("retry-after", "7"));

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"claude-test","messages":[{"role":"user","content":"x"}]}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("upstream_overloaded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("Overloaded", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RejectedKey_Becomes502AuthFailed()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => AnthropicUpstream.Error(ctx, 401, "authentication_error", "invalid x-api-key");

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"claude-test","messages":[{"role":"user","content":"x"}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("upstream_auth_failed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidRequest_KeepsTheProvidersMessage()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => AnthropicUpstream.Error(ctx, 400, "invalid_request_error", "temperature: range: 0..1");

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"claude-test","temperature":1.5,"messages":[{"role":"user","content":"x"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("temperature: range: 0..1", error.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Untranslatable_Is400AndNeverSent()
    {
        await using var env = await Start();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions",
            """{"model":"claude-test","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"x"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("response_format", error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("unsupported_by_provider", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(env.Upstream.Requests);
    }

    [Fact]
    public async Task Stream_ErrorEventMidway_ReachesTheClientAsAnErrorEvent()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, AnthropicUpstream.TextStream[0], AnthropicUpstream.TextStream[1], AnthropicUpstream.TextStream[3],
            AnthropicUpstream.Event("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));

        using var response = await env.Gateway.PostStreamingAsync("/v1/chat/completions",
            """{"model":"claude-test","stream":true,"messages":[{"role":"user","content":"x"}]}""");
        var events = new List<string>();
        using (var reader = new SseReader(await response.Content.ReadAsStreamAsync()))
        {
            // The gateway aborts the connection after the error event, so reading ends in an I/O error.
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                while (await reader.NextDataAsync() is { } data) events.Add(data);
            });
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(events, e => e.Contains("\"Hel\"", StringComparison.Ordinal));
        Assert.Contains("upstream_overloaded", events[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", events);
    }
}
