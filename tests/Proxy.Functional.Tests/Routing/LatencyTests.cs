using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>Strategy latency: power of two choices over a moving average of time to first byte.</summary>
public sealed class LatencyTests
{
    private const string ByLatency = """
          r:
            strategy: latency
            targets:
              - { provider: a, model: m-a }
              - { provider: b, model: m-b }
        """;

    [Fact]
    public async Task Latency_SlowAndFastTarget_FastOneServesOnceBothAreMeasured()
    {
        await using var env = await RoutingEnv.StartAsync(2, ByLatency);
        env['a'].Handler = async ctx =>
        {
            await Task.Delay(200, ctx.RequestAborted);
            await RoutingEnv.Ok(ctx);
        };

        var served = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            using var response = await env.PostAsync(RoutingEnv.Body());
            var target = Http.Header(response, "x-gateway-target")!;
            await Routed.OkAsync(response, target, attempts: 1);
            served.Add(target);
        }

        // An unmeasured target looks best, so each is called once; after that the slow one only loses.
        Assert.Equal(1, env.Received('a'));
        Assert.Equal(11, env.Received('b'));
        Assert.All(served.Skip(2), t => Assert.Equal("b/m-b", t));
    }

    [Fact]
    public async Task Latency_FastTargetFails_RequestFallsBackToTheSlowOne()
    {
        await using var env = await RoutingEnv.StartAsync(2, ByLatency + "\n    circuit_breaker: off");
        env['a'].Handler = async ctx =>
        {
            await Task.Delay(150, ctx.RequestAborted);
            await RoutingEnv.Ok(ctx);
        };
        // Measure both first, so b (fast) is the pick.
        for (int i = 0; i < 3; i++) (await env.PostAsync(RoutingEnv.Body())).Dispose();
        Assert.Equal(1, env.Received('a'));
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 500);

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 2);
        Assert.Equal(2, env.Received('a'));
    }
}
