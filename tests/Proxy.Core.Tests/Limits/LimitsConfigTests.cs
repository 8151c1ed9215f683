using Proxy.Config;
using Proxy.Limits;

namespace Proxy.Core.Tests.Limits;

/// <summary>The limits blocks of keys, teams and routes, and the limits: and redis: sections: rules built once, mistakes named with their line.</summary>
public sealed class LimitsConfigTests
{
    private static string Config(string top = "", string keyExtra = "", string routeExtra = "") => $$"""
        {{top}}
        providers:
          mock: { type: mock }
        routes:
          fast:
            provider: mock
        {{routeExtra}}
        keys:
          - id: team-a
            hash: {{ConfigLoaderTests.DemoHash}}
        {{keyExtra}}
        """;

    [Fact]
    public void KeyTeamAndRouteLimits_BuiltAsRulesInAFixedOrder()
    {
        var c = ConfigLoaderTests.Parse(Config(
            top: """
                limits:
                  on_store_failure: closed
                  default_output_tokens: 512
                teams:
                  acme:
                    limits: { concurrent_requests: 20, requests_per_minute: 6000 }
                """,
            keyExtra: """
                    team: acme
                    limits: { tokens_per_minute: 100000, requests_per_minute: 600, shadow: true, on_store_failure: open }
                """,
            routeExtra: """
                    limits: { requests_per_minute: 10000 }
                """));
        var key = c.Keys.Find(ConfigLoaderTests.DemoKey)!;
        Assert.Equal([(LimitKind.Requests, 600L), (LimitKind.Tokens, 100000L)], key.Limits.Select(r => (r.Kind, r.Limit)));
        Assert.All(key.Limits, r => Assert.True(r.Shadow));
        Assert.All(key.Limits, r => Assert.Equal(StoreFailureMode.Open, r.OnStoreFailure));
        Assert.Equal("key:team-a:rpm", key.Limits[0].Counter);
        Assert.Equal("acme", key.Team!.Name);
        Assert.Equal(["team:acme:rpm", "team:acme:concurrency"], key.Team.Limits.Select(r => r.Counter));
        Assert.All(key.Team.Limits, r => Assert.Equal(StoreFailureMode.Closed, r.OnStoreFailure));
        Assert.Equal("route:fast:rpm", Assert.Single(c.Routes["fast"].Limits).Counter);
        Assert.Equal(512, c.Limits.DefaultOutputTokens);
        Assert.Equal("memory", c.Limits.Store);
    }

    [Fact]
    public void NoLimits_NoRules_NoChecks()
    {
        var c = ConfigLoaderTests.Parse(Config());
        Assert.Empty(c.Keys.Find(ConfigLoaderTests.DemoKey)!.Limits);
        Assert.Null(LimitsStage.ChecksFor(c.Keys.Find(ConfigLoaderTests.DemoKey)!, c.Routes["fast"], 100, 0, c.Limits));
    }

    [Fact]
    public void RedisStore_ReadsItsSection_AndNeedsTheReplicaCountToFailOpen()
    {
        var c = ConfigLoaderTests.Parse(Config(top: """
            redis:
              url: redis://cache:6379/2
              password: ${UPSTREAM_KEY}
            limits:
              store: redis
              timeout: 15ms
              replicas: 3
            """));
        Assert.Equal(("redis", 3, TimeSpan.FromMilliseconds(15)), (c.Limits.Store, c.Limits.Replicas, c.Limits.Timeout));
        Assert.Equal(("redis://cache:6379/2", "secret-from-env"), (c.Redis!.Url, c.Redis.Password));

        var e = ConfigLoaderTests.Invalid(Config(top: """
            redis: { url: "redis://cache:6379" }
            limits: { store: redis }
            """));
        Assert.Contains("how many replicas share the limits", Assert.Single(e.Errors).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("limits: { store: redis }", "limits.store", "needs a 'redis:' section")]
    [InlineData("limits: { store: dynamo }", "limits.store", "unknown store 'dynamo'")]
    [InlineData("limits: { timeout: 10s }", "limits.timeout", "at most 5s")]
    [InlineData("limits: { on_store_failure: maybe }", "limits.on_store_failure", "not a fail mode")]
    [InlineData("redis: { password: x }", "redis.url", "missing")]
    [InlineData("teams: { acme: { limits: { requests_per_minute: 0 } } }", "teams.acme.limits.requests_per_minute", "between 1")]
    [InlineData("teams: { acme: { limits: { shadow: true } } }", "teams.acme.limits", "names no limit")]
    [InlineData("teams: { acme: { limits: { rpm: 5 } } }", "teams.acme.limits.rpm", "expected one of")]
    public void Mistakes_NamedWithTheirPathAndLine(string top, string path, string reason)
    {
        var e = ConfigLoaderTests.Invalid(Config(top: top));
        var error = Assert.Single(e.Errors, x => x.Path == path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void UnknownTeam_NamesTheDeclaredOnes()
    {
        var e = ConfigLoaderTests.Invalid(Config(top: "teams: { acme: {} }", keyExtra: "    team: acne"));
        Assert.Contains("unknown team 'acne'; declared: acme", Assert.Single(e.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_InputByBytesPlusTheOutputCap_OrTheDefault_CountTokensNone()
    {
        var s = new LimitsSettings { DefaultOutputTokens = 1000 };
        Assert.Equal(100 + 50, LimitsStage.EstimateTokens(400, 50, s));
        Assert.Equal(100 + 1000, LimitsStage.EstimateTokens(400, 0, s));
        Assert.Equal(0, LimitsStage.EstimateTokens(400, -1, s));
    }
}
