using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>Targets tagged by region, and a replica that says where it runs: a route can stay in its region or prefer it.</summary>
public sealed class RegionTests
{
    private static string Route(string policy) => $$"""
          r:
            region_policy: {{policy}}
            targets:
              - { provider: a, model: m-a, region: us-east-1 }
              - { provider: b, model: m-b, region: eu-west-1 }
        """;

    private const string InEurope = "  region: eu-west-1";

    [Fact]
    public async Task Local_OnlyThisRegionsTargetServes_EvenWhenItFails()
    {
        await using var env = await RoutingEnv.StartAsync(2, Route("local"), server: InEurope);

        using (var ok = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(ok, "b/m-b", attempts: 1);
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 500);
        using (var failed = await env.PostAsync(RoutingEnv.Body())) await Routed.ErrorAsync(failed, 500, "b/m-b", attempts: 1, "server_error");

        Assert.Equal((0, 2), (env.Received('a'), env.Received('b')));
    }

    [Fact]
    public async Task PreferLocal_LocalFirst_OtherRegionOnlyWhenLocalFails()
    {
        await using var env = await RoutingEnv.StartAsync(2, Route("prefer_local"), server: InEurope);

        using (var ok = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(ok, "b/m-b", attempts: 1);
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 503);
        using (var moved = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(moved, "a/m-a", attempts: 2);

        Assert.Equal((1, 2), (env.Received('a'), env.Received('b')));
    }

    [Fact]
    public async Task Any_ConfigOrderRegardlessOfRegion()
    {
        await using var env = await RoutingEnv.StartAsync(2, Route("any"), server: InEurope);

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 1);
    }
}
