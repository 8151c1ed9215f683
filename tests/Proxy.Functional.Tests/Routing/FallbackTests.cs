using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>Strategy fallback: targets in order, a retryable failure moves the request to the next one at once.</summary>
public sealed class FallbackTests
{
    internal const string TwoTargets = """
          r:
            strategy: fallback
            targets:
              - { provider: a, model: m-a }
              - { provider: b, model: m-b }
        """;

    [Fact]
    public async Task Fallback_FirstHealthy_ServesAlone()
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets);

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 1);
        Assert.Equal((1, 0), (env.Received('a'), env.Received('b')));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(429)]
    public async Task Fallback_RetryableStatus_NextTargetServesAtOnce(int status)
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, status, ("Retry-After", "20"));
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "b/m-b", attempts: 2);
        // Another target is tried without waiting (the Retry-After was a's): waiting would take 20 s; the bound leaves a
        // loaded 2-core machine room for two round trips.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal((1, 1), (env.Received('a'), env.Received('b')));
        Assert.Contains("\"model\":\"m-b\"", env['b'].Requests.Single().BodyText, StringComparison.Ordinal);
        Assert.Null(response.Headers.RetryAfter);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    public async Task Fallback_ClientErrorStatus_NotFallenBackFrom(int status)
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, status);

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.AssertAsync(response, status is 401 or 403 ? 502 : status, "a/m-a", attempts: 1);
        Assert.Equal((1, 0), (env.Received('a'), env.Received('b')));
    }

    [Fact]
    public async Task Fallback_FirstUnreachable_SecondServes()
    {
        using var closed = TestConfig.ClosedPort(out int port);
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets, baseUrls: new Dictionary<char, string> { ['a'] = $"http://127.0.0.1:{port}/v1" });

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "b/m-b", attempts: 2);
        Assert.Equal(1, env.Received('b'));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "a"), ("reason", "unreachable")));
    }

    [Fact]
    public async Task Fallback_FirstSlowPastItsFirstByteTimeout_SecondServes()
    {
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a, timeouts: { first_byte: 300ms } }
                  - { provider: b, model: m-b }
            """);
        env['a'].Handler = async ctx =>
        {
            await Task.Delay(20_000, ctx.RequestAborted);
            await RoutingEnv.Ok(ctx);
        };
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "b/m-b", attempts: 2);
        // a would answer after 20 s; its 300 ms first-byte timeout sends the request to b long before.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.28), TimeSpan.FromSeconds(10));
        Assert.Equal((1, 1), (env.Received('a'), env.Received('b')));
    }

    [Fact]
    public async Task Fallback_FirstSlowButWithinItsTimeout_FirstServes()
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets);
        env['a'].Handler = async ctx =>
        {
            await Task.Delay(400, ctx.RequestAborted);
            await RoutingEnv.Ok(ctx);
        };

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 1);
        Assert.Equal((1, 0), (env.Received('a'), env.Received('b')));
    }

    [Fact]
    public async Task Fallback_EveryTargetFails_LastFailureAnswered_EachTargetOnce()
    {
        await using var env = await RoutingEnv.StartAsync(3, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a }
                  - { provider: b, model: m-b }
                  - { provider: c, model: m-c }
            """);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 502);
        env['c'].Handler = ctx => RoutingEnv.Error(ctx, 503, ("Retry-After", "4"));

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.ErrorAsync(response, 503, "c/m-c", attempts: 3, "server_error", messageContains: "failing with 503");
        Assert.Equal(TimeSpan.FromSeconds(4), response.Headers.RetryAfter?.Delta);
        Assert.Equal((1, 1, 1), (env.Received('a'), env.Received('b'), env.Received('c')));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_retries_stopped_total", ("route", "r"), ("reason", "attempts")));
    }

    [Fact]
    public async Task Fallback_MoreAttemptsThanTargets_GoesRoundAgainAfterBackoff()
    {
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a }
                  - { provider: b, model: m-b }
                retries: { attempts: 3, backoff: 50ms }
                circuit_breaker: off
            """);
        env['a'].Handler = RoutingEnv.FailFirst(1, ctx => RoutingEnv.Error(ctx, 500));
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 500);

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 3);
        Assert.Equal((2, 1), (env.Received('a'), env.Received('b')));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "a"), ("reason", "server_error")));
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "b"), ("reason", "server_error")));
        Assert.Equal(1, m.Value("llm_gateway_requests_total", ("route", "r"), ("provider", "a"), ("status", "200")));
    }
}
