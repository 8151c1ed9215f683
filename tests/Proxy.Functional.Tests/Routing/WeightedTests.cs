using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>Strategy weighted: requests shared by weight in a smooth round-robin order; failures and open breakers move them.</summary>
public sealed class WeightedTests
{
    private static string Weighted(string breaker = "") => $$"""
          r:
            strategy: weighted
            targets:
              - { provider: a, model: m-a, weight: 3 }
              - { provider: b, model: m-b, weight: 1 }
        {{breaker}}
        """;

    [Fact]
    public async Task Weighted_ThreeToOne_ExactShareOverTwoCycles_Interleaved()
    {
        await using var env = await RoutingEnv.StartAsync(2, Weighted());

        var served = new List<string>();
        for (int i = 0; i < 8; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            var target = Http.Header(response, "x-gateway-target")!;
            await Routed.OkAsync(response, target, attempts: 1);
            served.Add(target);
        }

        Assert.Equal(6, served.Count(t => t == "a/m-a"));
        Assert.Equal(2, served.Count(t => t == "b/m-b"));
        Assert.Equal((6, 2), (env.Received('a'), env.Received('b')));
        // Smooth: b's turns are spread out, never back to back.
        Assert.DoesNotContain(served.Zip(served.Skip(1)), p => p.First == "b/m-b" && p.Second == "b/m-b");
    }

    [Fact]
    public async Task Weighted_TargetFailing_ItsShareFallsBackToTheOther()
    {
        await using var env = await RoutingEnv.StartAsync(2, Weighted("    circuit_breaker: off"));
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 503);

        int retried = 0;
        for (int i = 0; i < 8; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            int attempts = Http.Header(response, "x-gateway-attempts") == "2" ? 2 : 1;
            retried += attempts - 1;
            await Routed.OkAsync(response, "a/m-a", attempts);
        }

        // b's two turns failed and went to a.
        Assert.Equal(2, retried);
        Assert.Equal((8, 2), (env.Received('a'), env.Received('b')));
    }

    [Fact]
    public async Task Weighted_BreakerOpen_TargetSkippedByTheSchedule()
    {
        await using var env = await RoutingEnv.StartAsync(2, Weighted("    circuit_breaker: { consecutive_failures: 1, open_for: 30s }"));
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);

        using (var first = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(first, "b/m-b", attempts: 2);
        for (int i = 0; i < 6; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            await Routed.OkAsync(response, "b/m-b", attempts: 1);
        }

        Assert.Equal((1, 7), (env.Received('a'), env.Received('b')));
    }
}
