using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests.Cache;

/// <summary>
/// The response cache in the real gateway on its embedded store, against the fake upstream: a second identical request
/// is answered from the cache with the same bytes (plain and streamed) and never reaches the provider; however its JSON
/// is written; keys share entries unless the route isolates them; failures are not kept; hits are logged, counted and
/// free; limits still apply to them.
/// </summary>
public sealed class CacheTests
{
    private const string Chat = "/v1/chat/completions";
    private const string Body = """{"model":"cached","messages":[{"role":"user","content":"hi"}],"temperature":0.7}""";
    private const string StreamBody = """{"model":"cached","stream":true,"messages":[{"role":"user","content":"hi"}]}""";
    private const string SecondKey = "sk-gw-functional-second-5e9a1c7d2b4f";

    private static Func<string, string> Config(string routeCache = "{ ttl: 10m }", string keyLimits = "") => url =>
    {
        var yaml = TestConfig.Standard(url, extraRoutes:
            $"  cached:\n    provider: up\n    model: upstream-model\n    cache: {routeCache}\n") +
            $"\n  - id: second\n    hash: {TestKeys.Hash(SecondKey)}\n";
        if (keyLimits.Length > 0) yaml = yaml.Replace("  - id: all\n", $"  - id: all\n    limits: {keyLimits}\n", StringComparison.Ordinal);
        return "pricing:\n  upstream-model: { input: 3.0, output: 15.0 }\n" + yaml;
    };

    private static async Task<TestEnv> StartAsync(Func<string, string> config)
    {
        var env = await TestEnv.StartAsync(config);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        return env;
    }

    private sealed record Answer(int Status, string? Cache, string? ContentType, byte[] Body);

    private static async Task<Answer> SendAsync(TestEnv env, string body, string path = Chat, string key = TestKeys.All)
    {
        using var response = await env.Gateway.PostAsync(path, body, key);
        return new Answer((int)response.StatusCode, Http.Header(response, "x-gateway-cache"), response.Content.Headers.ContentType?.ToString(),
            await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Plain_TheSecondIdenticalRequestIsAHit_ByteIdentical_TheUpstreamSawOne()
    {
        await using var env = await StartAsync(Config());
        var miss = await SendAsync(env, Body);
        var hit = await SendAsync(env, Body);
        Assert.Equal((200, "miss"), (miss.Status, miss.Cache));
        Assert.Equal((200, "hit"), (hit.Status, hit.Cache));
        Assert.Equal(miss.ContentType, hit.ContentType);
        Assert.Equal(miss.Body, hit.Body);
        Assert.Contains("Hello from upstream", System.Text.Encoding.UTF8.GetString(hit.Body), StringComparison.Ordinal);
        Assert.Single(env.Upstream.Requests);
    }

    [Fact]
    public async Task Streamed_AHitIsAStreamOfTheSameEvents_PlainAndStreamedAreTwoEntries()
    {
        await using var env = await StartAsync(Config());
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);
        using var first = await env.Gateway.PostStreamingAsync(Chat, StreamBody);
        var missBytes = await first.Content.ReadAsByteArrayAsync();
        using var second = await env.Gateway.PostStreamingAsync(Chat, StreamBody);
        var hitBytes = await second.Content.ReadAsByteArrayAsync();

        Assert.Equal(("miss", "hit"), (Http.Header(first, "x-gateway-cache"), Http.Header(second, "x-gateway-cache")));
        Assert.Equal(200, (int)second.StatusCode);
        Assert.Equal("text/event-stream", second.Content.Headers.ContentType?.MediaType);
        Assert.True(second.Headers.TransferEncodingChunked); // sent as a stream is, not as one sized body
        Assert.Equal(missBytes, hitBytes);
        Assert.EndsWith(Upstream.Done, System.Text.Encoding.UTF8.GetString(hitBytes), StringComparison.Ordinal);
        Assert.Single(env.Upstream.Requests);

        // The same request without stream is another entry: a miss, answered by the provider.
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        var plain = await SendAsync(env, StreamBody.Replace("\"stream\":true,", "", StringComparison.Ordinal));
        Assert.Equal(("miss", "application/json"), (plain.Cache, plain.ContentType));
        Assert.Equal(2, env.Upstream.Requests.Count);
    }

    [Fact]
    public async Task KeyOrderWhitespaceAndIgnoredFields_StillHit()
    {
        await using var env = await StartAsync(Config());
        var miss = await SendAsync(env, Body);
        var reordered = await SendAsync(env, """
            {
              "temperature": 0.7,
              "messages": [ { "content": "hi", "role": "user" } ],
              "user": "someone-else",
              "model": "cached"
            }
            """);
        Assert.Equal(("miss", "hit"), (miss.Cache, reordered.Cache));
        Assert.Equal(miss.Body, reordered.Body);
        var otherTemperature = await SendAsync(env, Body.Replace("0.7", "0.8", StringComparison.Ordinal));
        Assert.Equal("miss", otherTemperature.Cache);
        Assert.Equal(2, env.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Keys_ShareEntries_UnlessTheRouteIsPerKey()
    {
        await using (var shared = await StartAsync(Config()))
        {
            Assert.Equal("miss", (await SendAsync(shared, Body, key: TestKeys.All)).Cache);
            Assert.Equal("hit", (await SendAsync(shared, Body, key: SecondKey)).Cache);
            Assert.Single(shared.Upstream.Requests);
        }
        await using var isolated = await StartAsync(Config("{ ttl: 10m, per_key: true }"));
        Assert.Equal("miss", (await SendAsync(isolated, Body, key: TestKeys.All)).Cache);
        Assert.Equal("miss", (await SendAsync(isolated, Body, key: SecondKey)).Cache);
        Assert.Equal("hit", (await SendAsync(isolated, Body, key: SecondKey)).Cache);
        Assert.Equal("hit", (await SendAsync(isolated, Body, key: TestKeys.All)).Cache);
        Assert.Equal(2, isolated.Upstream.Requests.Count);
    }

    [Fact]
    public async Task AFailedAnswer_IsNotCached()
    {
        await using var env = await StartAsync(Config());
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 400, """{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}""");
        var failed = await SendAsync(env, Body);
        Assert.Equal((400, "miss"), (failed.Status, failed.Cache));
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        var answered = await SendAsync(env, Body);
        Assert.Equal((200, "miss"), (answered.Status, answered.Cache));
        var hit = await SendAsync(env, Body);
        Assert.Equal((200, "hit"), (hit.Status, hit.Cache));
        Assert.Equal(answered.Body, hit.Body);
        Assert.Equal(2, env.Upstream.Requests.Count);
    }

    [Fact]
    public async Task AStreamCutShort_IsNotCached()
    {
        await using var env = await StartAsync(Config());
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(Upstream.Chunk("Hel")));
        using (var cut = await env.Gateway.PostStreamingAsync(Chat, StreamBody))
        {
            Assert.Equal("miss", Http.Header(cut, "x-gateway-cache"));
            try
            {
                await cut.Content.ReadAsByteArrayAsync(); // the error event, then the connection is cut
            }
            catch (HttpRequestException)
            {
            }
            catch (IOException)
            {
            }
        }
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);
        using var whole = await env.Gateway.PostStreamingAsync(Chat, StreamBody);
        await whole.Content.ReadAsByteArrayAsync();
        Assert.Equal("miss", Http.Header(whole, "x-gateway-cache"));
        Assert.Equal(2, env.Upstream.Requests.Count);
    }

    [Fact]
    public async Task AnAnswerLargerThanMaxEntryBytes_IsPassedOnNotCached()
    {
        await using var env = await StartAsync(Config("{ max_entry_bytes: 100 }"));
        Assert.Equal("miss", (await SendAsync(env, Body)).Cache);
        var again = await SendAsync(env, Body);
        Assert.Equal((200, "miss"), (again.Status, again.Cache));
        Assert.Equal(Upstream.Completion, System.Text.Encoding.UTF8.GetString(again.Body));
        Assert.Equal(2, env.Upstream.Requests.Count);
    }

    [Fact]
    public async Task RoutesWithoutCache_HaveNoHeader_AndAreNeverCached()
    {
        await using var env = await StartAsync(Config());
        const string body = """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}""";
        var a = await SendAsync(env, body);
        var b = await SendAsync(env, body);
        Assert.Equal((200, (string?)null, (string?)null), (b.Status, a.Cache, b.Cache));
        Assert.Equal(2, env.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Hits_AreLoggedCountedAndFree()
    {
        await using var env = await StartAsync(Config());
        await SendAsync(env, Body);
        await SendAsync(env, Body);
        await SendAsync(env, Body);

        var metrics = await MetricsTests.ScrapeAsync(env.Gateway);
        Assert.Equal(2, metrics.Value("llm_gateway_cache_requests_total", ("route", "cached"), ("result", "hit")));
        Assert.Equal(1, metrics.Value("llm_gateway_cache_requests_total", ("route", "cached"), ("result", "miss")));
        // Tokens and cost are the one call the provider answered.
        Assert.Equal(4, metrics.Value("llm_gateway_tokens_total", ("route", "cached"), ("provider", "up"), ("model", "upstream-model"), ("type", "completion")));

        await env.Gateway.StopAsync();
        var records = RequestLogTests.ReadRecords(env.Gateway.LogDirectory);
        Assert.Equal(3, records.Count);
        var miss = Assert.Single(records, r => r.GetProperty("cache").GetString() == "miss");
        Assert.Equal(("up", 1, 4L), (miss.GetProperty("provider").GetString(), miss.GetProperty("attempts").GetInt32(),
            miss.GetProperty("usage").GetProperty("completion_tokens").GetInt64()));
        Assert.True(miss.GetProperty("cost_usd").GetDecimal() > 0);
        var hits = records.Where(r => r.GetProperty("cache").GetString() == "hit").ToList();
        Assert.Equal(2, hits.Count);
        Assert.All(hits, h =>
        {
            Assert.Equal(200, h.GetProperty("status").GetInt32());
            Assert.Equal("cached", h.GetProperty("route").GetString());
            Assert.Equal(JsonValueKind.Null, h.GetProperty("provider").ValueKind);
            Assert.Equal(0, h.GetProperty("attempts").GetInt32());
            Assert.Equal(0, h.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
            Assert.Equal(0, h.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
            Assert.Equal(0m, h.GetProperty("cost_usd").GetDecimal());
            Assert.Equal(JsonValueKind.Null, h.GetProperty("error_class").ValueKind);
        });
    }

    [Fact]
    public async Task Limits_StillApplyToHits()
    {
        await using var env = await StartAsync(Config(keyLimits: "{ requests_per_minute: 2 }"));
        Assert.Equal("miss", (await SendAsync(env, Body)).Cache);
        Assert.Equal("hit", (await SendAsync(env, Body)).Cache);
        var refused = await SendAsync(env, Body);
        Assert.Equal((429, (string?)null), (refused.Status, refused.Cache));
        Assert.Single(env.Upstream.Requests);
    }

    [Fact]
    public async Task AnthropicMessages_AHitInTheAnthropicShape()
    {
        await using var env = await StartAsync(Config());
        const string messages = """{"model":"cached","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""";
        var miss = await SendAsync(env, messages, path: "/v1/messages");
        var hit = await SendAsync(env, messages, path: "/v1/messages");
        Assert.Equal((200, "miss"), (miss.Status, miss.Cache));
        Assert.Equal((200, "hit"), (hit.Status, hit.Cache));
        Assert.Equal(miss.Body, hit.Body);
        Assert.Equal("message", JsonDocument.Parse(hit.Body).RootElement.GetProperty("type").GetString());
        // The same request through the chat API is another entry.
        Assert.Equal("miss", (await SendAsync(env, messages)).Cache);
        Assert.Equal(2, env.Upstream.Requests.Count);
    }
}
