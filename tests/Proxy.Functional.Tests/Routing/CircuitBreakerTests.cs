using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>A target's breaker opens on failures, every strategy skips it while open, probes it when half-open, and closes on success.</summary>
public sealed class CircuitBreakerTests
{
    private const string Breaking = """
          r:
            strategy: fallback
            targets:
              - { provider: a, model: m-a }
              - { provider: b, model: m-b }
            circuit_breaker: { consecutive_failures: 2, failure_ratio: 0, open_for: 1s }
        """;

    private static readonly (string, string)[] A = [("route", "r"), ("provider", "a"), ("model", "m-a")];

    [Fact]
    public async Task Breaker_OpensAfterConsecutiveFailures_SkipsTarget_ThenProbeClosesIt()
    {
        await using var env = await RoutingEnv.StartAsync(2, Breaking);
        bool healthy = false;
        env['a'].Handler = ctx => Volatile.Read(ref healthy) ? RoutingEnv.Ok(ctx) : RoutingEnv.Error(ctx, 500);

        // Two failures in a row on a: each request falls back to b, and the second opens a's breaker.
        for (int i = 0; i < 2; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            await Routed.OkAsync(response, "b/m-b", attempts: 2);
        }
        var m = await env.ScrapeAsync();
        Assert.Equal(2, m.Value("llm_gateway_circuit_breaker_state", A));
        Assert.Equal(1, m.Value("llm_gateway_circuit_breaker_transitions_total", [.. A, ("to", "open")]));

        // Open: a is not called at all; b serves on the first attempt.
        using (var skipped = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(skipped, "b/m-b", attempts: 1);
        Assert.Equal(2, env.Received('a'));

        // After open_for, the next request is a's probe; a has recovered, so it serves and the breaker closes.
        Volatile.Write(ref healthy, true);
        await Task.Delay(1100);
        using (var probe = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(probe, "a/m-a", attempts: 1);
        using (var after = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(after, "a/m-a", attempts: 1);

        Assert.Equal(4, env.Received('a'));
        m = await env.ScrapeAsync();
        Assert.Equal(0, m.Value("llm_gateway_circuit_breaker_state", A));
        Assert.Equal(1, m.Value("llm_gateway_circuit_breaker_transitions_total", [.. A, ("to", "half_open")]));
        Assert.Equal(1, m.Value("llm_gateway_circuit_breaker_transitions_total", [.. A, ("to", "closed")]));
        Assert.Equal(2, m.Value("llm_gateway_fallbacks_total", [.. A, ("reason", "server_error")]));
    }

    [Fact]
    public async Task Breaker_ProbeFails_OpensAgain()
    {
        await using var env = await RoutingEnv.StartAsync(2, Breaking);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 503);
        for (int i = 0; i < 2; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            await Routed.OkAsync(response, "b/m-b", attempts: 2);
        }

        await Task.Delay(1100);
        // The probe goes to a, fails, and the request falls back to b; a's breaker is open again.
        using (var probe = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(probe, "b/m-b", attempts: 2);
        using (var skipped = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(skipped, "b/m-b", attempts: 1);

        Assert.Equal(3, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(2, m.Value("llm_gateway_circuit_breaker_state", A));
        Assert.Equal(2, m.Value("llm_gateway_circuit_breaker_transitions_total", [.. A, ("to", "open")]));
        Assert.Equal(1, m.Value("llm_gateway_circuit_breaker_transitions_total", [.. A, ("to", "half_open")]));
    }

    [Fact]
    public async Task Breaker_EveryTargetOpen_Fast503WithRetryAfter_NoUpstreamCalled()
    {
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a }
                  - { provider: b, model: m-b }
                circuit_breaker: { consecutive_failures: 1, open_for: 30s }
            """);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 502);

        using (var first = await env.PostAsync(RoutingEnv.Body()))
            await Routed.ErrorAsync(first, 502, "b/m-b", attempts: 2, "server_error");
        var clock = Stopwatch.StartNew();
        using var response = await env.PostAsync(RoutingEnv.Body());

        var body = await Routed.AssertAsync(response, 503, target: null, attempts: 0);
        Assertions.AssertErrorShape(body, "upstream_error", code: "circuit_open", messageContains: "circuit breakers open");
        Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        // Refused at once; the counts below prove no upstream was tried. The bound only rules out a wait (open_for is 30 s).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal((1, 1), (env.Received('a'), env.Received('b')));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_requests_total", ("route", "r"), ("provider", "none"), ("status", "503")));
    }

    [Fact]
    public async Task Breaker_OpensOnFailureRatio_NotOnlyOnARunOfFailures()
    {
        // Every other call fails: never two in a row, but half of the window's calls.
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a }
                  - { provider: b, model: m-b }
                circuit_breaker: { consecutive_failures: 0, failure_ratio: 0.5, min_requests: 4, window: 30s, open_for: 30s }
            """);
        int calls = 0;
        env['a'].Handler = ctx => Interlocked.Increment(ref calls) % 2 == 0 ? RoutingEnv.Error(ctx, 500) : RoutingEnv.Ok(ctx);

        var served = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            served.Add(Http.Header(response, "x-gateway-target")!);
            Assert.Equal(200, (int)response.StatusCode);
        }

        // a: ok, fail (b serves), ok, fail (4 calls, half failed: open; b serves), then skipped.
        Assert.Equal(["a/m-a", "b/m-b", "a/m-a", "b/m-b", "b/m-b", "b/m-b"], served);
        Assert.Equal(4, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(2, m.Value("llm_gateway_circuit_breaker_state", A));
    }

    [Fact]
    public async Task Breaker_ClientErrorsDoNotOpenIt()
    {
        await using var env = await RoutingEnv.StartAsync(2, Breaking);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 400);

        for (int i = 0; i < 4; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            await Routed.AssertAsync(response, 400, "a/m-a", attempts: 1);
        }

        Assert.Equal((4, 0), (env.Received('a'), env.Received('b')));
        var m = await env.ScrapeAsync();
        Assert.Equal(0, m.Value("llm_gateway_circuit_breaker_state", A));
    }

    [Fact]
    public async Task Breaker_OpenStaysOpenAcrossAConfigReload_ThatLeavesItsTargetAlone()
    {
        await using var env = await RoutingEnv.StartAsync(2, Breaking);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);
        for (int i = 0; i < 2; i++) (await env.PostAsync(RoutingEnv.Body())).Dispose();

        // A reload that adds a route: route r, provider a and its model are unchanged, so a's breaker is kept.
        var yaml = await File.ReadAllTextAsync(env.Gateway.ConfigPath);
        await env.Gateway.WriteConfigAsync(yaml.Replace("routes:\n", "routes:\n  added: { provider: b, model: m-b }\n", StringComparison.Ordinal));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await env.ScrapeAsync()).Value("llm_gateway_config_reloads_total", ("result", "applied")) < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the new config was not applied");
            await Task.Delay(100);
        }

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "b/m-b", attempts: 1);
        Assert.Equal(2, env.Received('a'));
        var m = await env.ScrapeAsync();
        Assert.Equal(2, m.Value("llm_gateway_circuit_breaker_state", A));
    }
}
