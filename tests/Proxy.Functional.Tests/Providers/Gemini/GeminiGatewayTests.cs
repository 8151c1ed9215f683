using System.Collections.Concurrent;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Gemini;

/// <summary>The real gateway in front of a fake Gemini API on loopback: what goes up (URL, key, body) and what comes back.</summary>
public sealed class GeminiGatewayTests
{
    private static Task<TestEnv> Start() => TestEnv.StartAsync(url => GeminiUpstream.Config(GeminiUpstream.GeminiProvider(url), "gem"));

    [Fact]
    public async Task Plain_TranslatedBothWays_KeyOnlyInTheGoogHeader()
    {
        await using var env = await Start();
        var queries = new ConcurrentQueue<string>();
        env.Upstream.Handler = GeminiUpstream.Recording(queries, ctx => Upstream.Json(ctx, 200, GeminiUpstream.Text("Hello from Gemini é ✓")));

        using var response = await env.Gateway.PostAsync("/v1/chat/completions",
            """{"model":"flash","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello"}],"max_tokens":50}""");

        var body = await Http.ReadBodyAsync(response);
        Assert.True(response.IsSuccessStatusCode, body);
        using var answer = JsonDocument.Parse(body);
        var root = answer.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal(GeminiUpstream.Model, root.GetProperty("model").GetString());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal("Hello from Gemini é ✓", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(13, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        var sent = await env.Upstream.FirstRequest();
        Assert.Equal("POST", sent.Method);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", sent.Path);
        Assert.Equal("", Assert.Single(queries)); // the key is never in the URL
        Assert.Equal(TestKeys.UpstreamSecret, sent.Headers["x-goog-api-key"]);
        Assert.False(sent.Headers.ContainsKey("Authorization")); // the client's gateway key does not leak upstream
        Assert.StartsWith("application/json", sent.Headers["Content-Type"], StringComparison.Ordinal);
        using var request = JsonDocument.Parse(sent.Body);
        Assert.Equal("hello", request.RootElement.GetProperty("contents")[0].GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal("Be brief.", request.RootElement.GetProperty("systemInstruction").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal(50, request.RootElement.GetProperty("generationConfig").GetProperty("maxOutputTokens").GetInt32());
        Assert.False(request.RootElement.TryGetProperty("model", out _));
    }

    [Fact]
    public async Task Stream_GoesToStreamGenerateContentWithAltSse_AndEndsWithDone()
    {
        await using var env = await Start();
        var queries = new ConcurrentQueue<string>();
        env.Upstream.Handler = GeminiUpstream.Recording(queries, ctx => Upstream.Sse(ctx, GeminiUpstream.TextStream));

        using var response = await env.Gateway.PostStreamingAsync("/v1/chat/completions",
            """{"model":"flash","stream":true,"messages":[{"role":"user","content":"hello"}]}""");

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await sse.ReadAllAsync();
        Assert.Equal(5, events.Count);
        Assert.Contains("\"delta\":{\"role\":\"assistant\",\"content\":\"\"}", events[0], StringComparison.Ordinal);
        Assert.Contains("\"delta\":{\"content\":\"Hel\"}", events[1], StringComparison.Ordinal);
        Assert.Contains("\"delta\":{\"content\":\"lo\"}", events[2], StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", events[3], StringComparison.Ordinal);
        Assert.Equal("[DONE]", events[4]);
        Assert.DoesNotContain(events, e => e.Contains("\"usage\"", StringComparison.Ordinal)); // not asked for

        var sent = await env.Upstream.FirstRequest();
        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent", sent.Path);
        Assert.Equal("?alt=sse", Assert.Single(queries));
        Assert.Equal("text/event-stream", sent.Headers["Accept"]);
    }

    [Fact]
    public async Task Stream_CutBeforeFinish_EndsWithErrorEvent()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, GeminiUpstream.Event("""{"candidates": [{"content": {"parts": [{"text": "Hel"}],"role": "model"},"index": 0}]}"""));

        var events = await EventsUntilAbortAsync(env);

        Assert.Contains("\"Hel\"", events[1], StringComparison.Ordinal); // after the role chunk
        Assertions.AssertErrorShape(events[^1], "upstream_error", "upstream_stream_broken");
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task Stream_GoogleErrorMidway_IsPassedOnAsAnErrorEvent()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, GeminiUpstream.TextStream[0],
            GeminiUpstream.Event(GeminiUpstream.GoogleError(500, "INTERNAL", "An internal error has occurred.")));

        var events = await EventsUntilAbortAsync(env);

        Assert.Equal(3, events.Count); // the role chunk, the text, the error
        Assertions.AssertErrorShape(events[2], "upstream_error", "upstream_error", messageContains: "An internal error has occurred.");
    }

    [Fact]
    public async Task RateLimited_Is429WithGooglesMessageAndRetryAfter()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, GeminiUpstream.GoogleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."), ("Retry-After", "7"));

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","messages":[{"role":"user","content":"hello"}]}""");

        await Assertions.AssertOpenAiError(response, 429, "rate_limit_error", "rate_limit_exceeded", messageContains: "Resource has been exhausted");
        Assert.Equal("7", Http.Header(response, "Retry-After"));
    }

    [Fact]
    public async Task BadApiKey_Is502UpstreamAuthFailed()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 400, """
            {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}
            """);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","messages":[{"role":"user","content":"hello"}]}""");

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", "upstream_auth_failed", messageContains: "API key not valid");
    }

    [Fact]
    public async Task PromptBlocked_Is400NamingTheReason()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, GeminiUpstream.PromptBlocked);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","messages":[{"role":"user","content":"something bad"}]}""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", "content_filter", messageContains: "blockReason: SAFETY");
    }

    [Fact]
    public async Task Untranslatable_Is400AndNothingGoesUpstream()
    {
        await using var env = await Start();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","n":3,"messages":[{"role":"user","content":"hello"}]}""");
        using var embeddings = await env.Gateway.PostAsync("/v1/embeddings", """{"model":"flash","input":[[1,2,3]]}""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", "unsupported_by_provider", param: "n", messageContains: "n > 1 is not supported by provider type 'gemini'");
        await Assertions.AssertOpenAiError(embeddings, 400, "invalid_request_error", "unsupported_by_provider", param: "input", messageContains: "token ids are not supported");
        Assert.Empty(env.Upstream.Requests);
    }

    /// <summary>A failed stream ends with an error event and then an aborted connection (so SDKs that ignore error events still fail).</summary>
    private static async Task<List<string>> EventsUntilAbortAsync(TestEnv env)
    {
        using var response = await env.Gateway.PostStreamingAsync("/v1/chat/completions",
            """{"model":"flash","stream":true,"messages":[{"role":"user","content":"hello"}]}""");
        Assert.Equal(200, (int)response.StatusCode);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        try
        {
            while (await reader.NextDataAsync() is { } data) events.Add(data);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return events;
        }
        Assert.Fail($"the stream ended cleanly after {events.Count} events; a failed stream must end with an aborted connection");
        return events;
    }
}
