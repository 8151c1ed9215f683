using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests.Limits;

/// <summary>
/// The limits stage in the real gateway on its embedded store: OpenAI's rate-limit headers on answers, a 429 with
/// Retry-After in each client API's shape that names the limit and never the key, tokens reserved and settled to the
/// provider's usage, concurrency held by a stream until its last byte, shadow limits that count and never refuse.
/// </summary>
public sealed class LimitsTests
{
    private const string Chat = "/v1/chat/completions";
    private const string Body = """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"max_tokens":20}""";

    private static async Task<TestEnv> StartAsync(Func<string, string> config)
    {
        var env = await TestEnv.StartAsync(config);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        return env;
    }

    private static Func<string, string> WithLimits(string keyLimits, string routeLimits = "", string top = "") => url =>
    {
        var yaml = TestConfig.Standard(url, extraRoutes: routeLimits.Length == 0 ? "" : $"  limited-route:\n    provider: up\n    model: upstream-model\n    limits: {routeLimits}\n");
        yaml = yaml.Replace("  - id: all\n", $"  - id: all\n    limits: {keyLimits}\n", StringComparison.Ordinal);
        return top + "\n" + yaml;
    };

    [Fact]
    public async Task RequestsPerMinute_HeadersOnEveryAnswer_ThenA429InTheOpenAIShape()
    {
        await using var env = await StartAsync(WithLimits("{ requests_per_minute: 3 }"));
        for (int i = 0; i < 3; i++)
        {
            using var ok = await env.Gateway.PostAsync(Chat, Body);
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal("3", Http.Header(ok, "x-ratelimit-limit-requests"));
            Assert.Equal((2 - i).ToString(), Http.Header(ok, "x-ratelimit-remaining-requests"));
            Assert.Matches("^[0-9.]+(ms|s)$|^1m0s$", Http.Header(ok, "x-ratelimit-reset-requests"));
        }
        using var refused = await env.Gateway.PostAsync(Chat, Body);
        var body = await Http.ReadBodyAsync(refused);
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.InRange(int.Parse(Http.Header(refused, "Retry-After")!), 1, 60);
        Assert.Equal("0", Http.Header(refused, "x-ratelimit-remaining-requests"));
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Contains("requests per minute of key 'all'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.All, body, StringComparison.Ordinal);
        Assert.Equal(3, env.Upstream.Requests.Count); // the refused one never went upstream

        var metrics = await MetricsTests.ScrapeAsync(env.Gateway);
        Assert.Equal(1, metrics.Value("llm_gateway_rate_limited_total", ("scope", "key"), ("holder", "all"), ("limit", "rpm"), ("result", "refused")));
        Assert.Equal(1, metrics.Value("llm_gateway_requests_rejected_total", ("reason", "rate_limited")));

        await env.Gateway.StopAsync();
        var records = RequestLogTests.ReadRecords(env.Gateway.LogDirectory);
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.InRange(r.GetProperty("latency_us").GetProperty("limits").GetInt64(), 1, 5_000_000));
        var limited = Assert.Single(records, r => r.TryGetProperty("limited_by", out _));
        Assert.Equal(("key:all:rpm", 429, "rate_limit_error"),
            (limited.GetProperty("limited_by").GetString(), limited.GetProperty("status").GetInt32(), limited.GetProperty("error_class").GetString()));
    }

    [Fact]
    public async Task AnthropicClient_GetsAnthropicsRateLimitShape()
    {
        await using var env = await StartAsync(WithLimits("{ requests_per_minute: 1 }"));
        const string messages = """{"model":"gpt-test","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""";
        using (var ok = await env.Gateway.PostAsync("/v1/messages", messages)) Assert.Equal(200, (int)ok.StatusCode);
        using var refused = await env.Gateway.PostAsync("/v1/messages", messages);
        var root = JsonDocument.Parse(await Http.ReadBodyAsync(refused)).RootElement;
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Equal("error", root.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", root.GetProperty("error").GetProperty("type").GetString());
        Assert.NotNull(Http.Header(refused, "Retry-After"));
    }

    [Fact]
    public async Task TokensPerMinute_ReservedByTheEstimate_SettledToTheUsage()
    {
        // The body is ~80 bytes (20 tokens estimated) + max_tokens 20: 40 reserved; the upstream reports 13 used.
        await using var env = await StartAsync(WithLimits("{ tokens_per_minute: 100 }"));
        using (var first = await env.Gateway.PostAsync(Chat, Body))
        {
            Assert.Equal(200, (int)first.StatusCode);
            Assert.Equal("100", Http.Header(first, "x-ratelimit-limit-tokens"));
            Assert.InRange(long.Parse(Http.Header(first, "x-ratelimit-remaining-tokens")!), 55, 65);
        }
        // Settled to 13 once the first answer is done (the finally after its last byte): the next sees 100 - 13 - its own 40.
        await Task.Delay(300);
        using var second = await env.Gateway.PostAsync(Chat, Body);
        Assert.Equal(200, (int)second.StatusCode);
        Assert.InRange(long.Parse(Http.Header(second, "x-ratelimit-remaining-tokens")!), 100 - 13 - 45, 100 - 13 - 35);
    }

    [Fact]
    public async Task TokensPerMinute_ARequestLargerThanTheWholeLimit_SaysSo()
    {
        await using var env = await StartAsync(WithLimits("{ tokens_per_minute: 30 }"));
        using var refused = await env.Gateway.PostAsync(Chat, Body);
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Contains("Request too large for the tokens per minute of key 'all'", await Http.ReadBodyAsync(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrency_AStreamHoldsItsSlotUntilItsLastByte()
    {
        await using var env = await StartAsync(WithLimits("{ concurrent_requests: 1 }"));
        var release = new TaskCompletionSource();
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await Upstream.Send(ctx, Upstream.Event(Upstream.RoleChunk));
            await release.Task;
            await Upstream.Send(ctx, Upstream.Event(Upstream.UsageChunk) + Upstream.Done);
        };
        using var stream = await env.Gateway.PostStreamingAsync(Chat, """{"model":"gpt-test","stream":true,"messages":[]}""");
        Assert.Equal(200, (int)stream.StatusCode);
        using (var second = await env.Gateway.PostAsync(Chat, Body))
        {
            Assert.Equal(429, (int)second.StatusCode);
            Assert.Contains("concurrent requests of key 'all'", await Http.ReadBodyAsync(second), StringComparison.Ordinal);
        }
        release.SetResult();
        await (await stream.Content.ReadAsStreamAsync()).CopyToAsync(Stream.Null);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        await Until(async () =>
        {
            using var third = await env.Gateway.PostAsync(Chat, Body);
            return (int)third.StatusCode == 200;
        }, "the stream's slot was not freed after its last byte");
    }

    [Fact]
    public async Task RouteLimit_SharedByEveryKey()
    {
        await using var env = await StartAsync(url => TestConfig.Standard(url,
            extraRoutes: "  limited-route:\n    provider: up\n    model: upstream-model\n    limits: { requests_per_minute: 2 }\n"));
        const string body = """{"model":"limited-route","messages":[]}""";
        using (var a = await env.Gateway.PostAsync(Chat, body)) Assert.Equal(200, (int)a.StatusCode);
        using (var b = await env.Gateway.PostAsync(Chat, body)) Assert.Equal(200, (int)b.StatusCode);
        using var c = await env.Gateway.PostAsync(Chat, body);
        Assert.Equal(429, (int)c.StatusCode);
        Assert.Contains("requests per minute of route 'limited-route'", await Http.ReadBodyAsync(c), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shadow_CountsAndLogs_NeverRefuses()
    {
        await using var env = await StartAsync(WithLimits("{ requests_per_minute: 1, shadow: true }"));
        for (int i = 0; i < 3; i++)
        {
            using var ok = await env.Gateway.PostAsync(Chat, Body);
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Null(Http.Header(ok, "x-ratelimit-limit-requests")); // a shadow limit is not the client's business yet
        }
        var metrics = await MetricsTests.ScrapeAsync(env.Gateway);
        Assert.Equal(2, metrics.Value("llm_gateway_rate_limited_total", ("scope", "key"), ("holder", "all"), ("limit", "rpm"), ("result", "shadow")));
    }

    [Fact]
    public async Task Team_SharedByItsKeys()
    {
        await using var env = await StartAsync(url => "teams:\n  acme:\n    limits: { requests_per_minute: 2 }\n" + TestConfig.Standard(url)
            .Replace("  - id: all\n", "  - id: all\n    team: acme\n", StringComparison.Ordinal)
            .Replace("  - id: limited\n", "  - id: limited\n    team: acme\n", StringComparison.Ordinal));
        const string body = """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""";
        using (var a = await env.Gateway.PostAsync(Chat, body, TestKeys.All)) Assert.Equal(200, (int)a.StatusCode);
        using (var b = await env.Gateway.PostAsync(Chat, body, TestKeys.Limited)) Assert.Equal(200, (int)b.StatusCode);
        using var c = await env.Gateway.PostAsync(Chat, body, TestKeys.All);
        Assert.Equal(429, (int)c.StatusCode);
        Assert.Contains("of team 'acme'", await Http.ReadBodyAsync(c), StringComparison.Ordinal);
    }

    private static async Task Until(Func<Task<bool>> condition, string because)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(because);
            await Task.Delay(50);
        }
    }
}
