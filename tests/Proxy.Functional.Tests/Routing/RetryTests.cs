using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>
/// Retries on one target (strategy single): only retryable failures are tried again, with backoff or the upstream's
/// Retry-After, and never past the route's attempts, its retry budget or its total timeout.
/// </summary>
public sealed class RetryTests
{
    private const string Retrying = """
          r:
            provider: a
            model: m-a
            retries: { attempts: 3, backoff: 50ms, max_backoff: 200ms, max_retry_after: 2s }
        """;

    [Fact]
    public async Task Retry_500ThenOk_ServedOnSecondAttempt()
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying);
        env['a'].Handler = RoutingEnv.FailFirst(1, ctx => RoutingEnv.Error(ctx, 500));

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 2);
        Assert.Equal(2, env.Received('a'));
        // The same body both times, the upstream model spliced in each.
        Assert.All(env['a'].Requests, r => Assert.Contains("\"model\":\"m-a\"", r.BodyText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retry_429WithRetryAfter_WaitsWhatTheUpstreamAskedThenServes()
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying);
        env['a'].Handler = RoutingEnv.FailFirst(1, ctx => RoutingEnv.Error(ctx, 429, ("Retry-After", "1")));
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 2);
        // At least the 1 s asked for; the upper bound only rules out a wait of another order, with room for a loaded machine.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.95), TimeSpan.FromSeconds(10));
        Assert.Equal(2, env.Received('a'));
    }

    [Fact]
    public async Task Retry_429WithRetryAfterPastMax_NotRetried_ClientGetsTheRetryAfter()
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 429, ("Retry-After", "30"));
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.ErrorAsync(response, 429, "a/m-a", attempts: 1, "server_error", messageContains: "failing with 429");
        Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
        // Waiting it out would take 30 s; the bound leaves a loaded 2-core machine room for the round trip.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}: a Retry-After past max_retry_after is not waited out");
        Assert.Equal(1, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_retries_stopped_total", ("route", "r"), ("reason", "retry_after")));
    }

    [Theory]
    [InlineData(400, 400)]
    [InlineData(401, 502)]
    [InlineData(403, 502)]
    [InlineData(404, 404)]
    [InlineData(422, 422)]
    [InlineData(501, 501)]
    public async Task Retry_NonRetryableStatuses_NeverRetried(int upstreamStatus, int clientStatus)
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, upstreamStatus);

        using var response = await env.PostAsync(RoutingEnv.Body());

        var body = await Routed.AssertAsync(response, clientStatus, "a/m-a", attempts: 1);
        Assert.Contains("error", body, StringComparison.Ordinal);
        Assert.Equal(1, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(0, m.Find("llm_gateway_retries_total").Sum(s => s.Value));
        Assert.Equal(0, m.Find("llm_gateway_retries_stopped_total").Sum(s => s.Value));
    }

    [Fact]
    public async Task Retry_AlwaysFailing_StopsAtTheAttemptsBound_WithBackoffBetween()
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 503);
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.ErrorAsync(response, 503, "a/m-a", attempts: 3, "server_error", messageContains: "failing with 503");
        // Two backoffs: 25-50 ms, then 50-100 ms (equal jitter over 50 ms doubling).
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(75), $"took {clock.Elapsed}");
        Assert.Equal(3, env.Received('a'));
        var m = await env.ScrapeAsync();
        (string, string)[] a = [("route", "r"), ("provider", "a"), ("model", "m-a")];
        Assert.Equal(2, m.Value("llm_gateway_retries_total", [.. a, ("reason", "server_error")]));
        Assert.Equal(1, m.Value("llm_gateway_retries_stopped_total", ("route", "r"), ("reason", "attempts")));
        Assert.Equal(3, m.Value("llm_gateway_upstream_errors_total", ("provider", "a"), ("class", "server_error")));
        Assert.Equal(1, m.Value("llm_gateway_requests_total", [.. a, ("status", "503")]));
    }

    [Fact]
    public async Task Retry_ConnectionResetBeforeTheAnswer_Retried()
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying);
        env['a'].Handler = RoutingEnv.FailFirst(1, ctx =>
        {
            ctx.Abort();
            return Task.CompletedTask;
        });

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 2);
        Assert.Equal(2, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_retries_total", ("route", "r"), ("provider", "a"), ("reason", "unreachable")));
    }

    [Fact]
    public async Task Retry_UpstreamHangsPastFirstByteTimeout_RetriedAsFirstByteTimeout()
    {
        await using var env = await RoutingEnv.StartAsync(1, Retrying, firstByte: "300ms");
        env['a'].Handler = RoutingEnv.FailFirst(1, ctx => Upstream.Hang(ctx));
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 2);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.28), TimeSpan.FromSeconds(8)); // the hang lasts 10 s
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_retries_total", ("route", "r"), ("provider", "a"), ("reason", "first_byte_timeout")));
        // The hanging attempt was abandoned, not left running.
        await env['a'].Requests.First().Aborted.WaitAsync(TimeSpan.FromSeconds(8)); // under the hang's 10 s
    }

    [Fact]
    public async Task ShortForm_NoRetries_OneAttemptWithTheHeaders()
    {
        await using var env = await RoutingEnv.StartAsync(1, "  r: { provider: a, model: m-a }");
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.ErrorAsync(response, 500, "a/m-a", attempts: 1, "server_error");
        Assert.Equal(1, env.Received('a'));
        var m = await env.ScrapeAsync();
        // A route that never retries reports no stopped retries, and has no breaker.
        Assert.Empty(m.Find("llm_gateway_retries_stopped_total"));
        Assert.Empty(m.Find("llm_gateway_circuit_breaker_state"));
    }

    [Fact]
    public async Task RetryBudget_Spent_LaterFailuresGoStraightBackToTheClient()
    {
        // At most 1 retry per second over a 3 s window, and no share of traffic: 3 retries, then none.
        await using var env = await RoutingEnv.StartAsync(1, """
              r:
                provider: a
                model: m-a
                retries: { attempts: 2, backoff: 10ms, budget: { ratio: 0, min_per_second: 1, window: 3s } }
            """);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);

        var attempts = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            await Routed.ErrorAsync(response, 500, "a/m-a", attempts: i < 3 ? 2 : 1, "server_error");
        }

        Assert.Equal(3 * 2 + 3, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(3, m.Value("llm_gateway_retries_stopped_total", ("route", "r"), ("reason", "budget")));
        Assert.Equal(3, m.Value("llm_gateway_retries_total", ("route", "r"), ("provider", "a"), ("reason", "server_error")));
    }

    [Fact]
    public async Task TotalTimeout_EndsTheRetriesAtTheRoutesDeadline()
    {
        await using var env = await RoutingEnv.StartAsync(1, """
              r:
                provider: a
                model: m-a
                retries: { attempts: 10, backoff: 20ms, max_backoff: 20ms }
                timeouts: { first_byte: 300ms, total: 1s }
            """);
        env['a'].Handler = ctx => Upstream.Hang(ctx);
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        var elapsed = clock.Elapsed;
        Assert.InRange(elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(2));
        int attempts = int.Parse(Http.Header(response, "x-gateway-attempts")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(attempts, 3, 4);
        await Routed.ErrorAsync(response, 504, "a/m-a", attempts, "timeout_error", code: "upstream_timeout");
        Assert.Equal(attempts, env.Received('a'));
    }
}
