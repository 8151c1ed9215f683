using System.Text;
using Proxy.Config;
using Proxy.Providers.Mock;
using Proxy.Providers.OpenAI;
using Proxy.Routing;
using Proxy.Routing.Strategies;

namespace Proxy.Core.Tests.Routing;

/// <summary>The routes: section: the short form, targets with a strategy, regions, retries, timeouts, breakers, and their mistakes.</summary>
public sealed class RoutingConfigTests
{
    private static string Yaml(string routes, string extra = "") => $$"""
        server:
          max_body_bytes: 1MiB
          region: eu-west-1
        providers:
          openai:
            type: openai
            api_key: ${UPSTREAM_KEY}
            connect_timeout: 5s
            first_byte_timeout: 60s
            idle_timeout: 30s
          azure-eu:
            type: openai
            base_url: https://eu.example/v1
          mock:
            type: mock
        routes:
        {{routes}}
        {{extra}}
        keys: []
        """;

    private static GatewayConfig Parse(string routes, string extra = "") => ConfigLoaderTests.Parse(Yaml(routes, extra));

    [Fact]
    public void ShortForm_OneTarget_Single_NoRetries_NoBreaker_ProviderTimeouts()
    {
        var route = Parse("  gpt: { provider: openai, model: gpt-4o }").Routes["gpt"];
        var t = Assert.Single(route.Targets);
        Assert.Same(SingleTarget.Instance, route.Strategy);
        Assert.Equal(1, route.Retries.Attempts);
        Assert.Null(route.Budget);
        Assert.Null(route.CircuitBreaker);
        Assert.Null(t.Breaker);
        Assert.Equal(("gpt-4o", "openai/gpt-4o"), (t.UpstreamModel, t.HeaderValue));
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)), (t.ConnectTimeout, t.FirstByteTimeout, t.IdleTimeout));
        Assert.Equal(TimeSpan.Zero, t.AttemptTimeout);
        Assert.Equal(TimeSpan.Zero, route.TotalTimeout);
    }

    [Fact]
    public void Targets_DefaultToFallback_OneAttemptPerTarget_WithABreakerEach()
    {
        var route = Parse("""
              gpt:
                targets:
                  - { provider: azure-eu, model: gpt-4o-eu, region: eu-west-1 }
                  - { provider: openai, model: gpt-4o }
            """).Routes["gpt"];
        Assert.Same(OrderedFallback.Instance, route.Strategy);
        Assert.Equal(2, route.Retries.Attempts);
        Assert.NotNull(route.Budget);
        Assert.Equal(new BreakerSettings { Enabled = true }.ConsecutiveFailures, route.CircuitBreaker!.ConsecutiveFailures);
        Assert.All(route.Targets, t => Assert.NotNull(t.Breaker));
        Assert.NotSame(route.Targets[0].Breaker, route.Targets[1].Breaker);
        Assert.Equal(["eu-west-1", null], route.Targets.Select(t => t.Region));
        Assert.Equal([0, 1], route.Targets.Select(t => t.Index));
    }

    [Fact]
    public void EveryField_Read()
    {
        var route = Parse("""
              gpt:
                strategy: weighted
                region_policy: any
                targets:
                  - { provider: azure-eu, model: a, weight: 3, timeouts: { connect: 1s, first_byte: 2s, idle: 3s, total: 4s } }
                  - { provider: openai, model: b, weight: 1 }
                retries:
                  attempts: 4
                  backoff: 100ms
                  max_backoff: 1s
                  max_retry_after: 3s
                  budget: { ratio: 0.1, min_per_second: 2, window: 20s }
                timeouts: { first_byte: 10s, idle: 5s, total: 90s }
                circuit_breaker:
                  consecutive_failures: 7
                  failure_ratio: 0.25
                  min_requests: 50
                  window: 1m
                  open_for: 15s
                  half_open_probes: 2
            """).Routes["gpt"];
        Assert.Same(WeightedBalance.Instance, route.Strategy);
        Assert.Equal([3, 1], route.Targets.Select(t => t.Weight));
        Assert.Equal([0, 0, 1, 0], route.Schedule);
        Assert.Equal(new RetrySettings
        {
            Attempts = 4, Backoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromSeconds(1), MaxRetryAfter = TimeSpan.FromSeconds(3),
            Budget = new RetryBudgetSettings { Ratio = 0.1, MinPerSecond = 2, Window = TimeSpan.FromSeconds(20) },
        }, route.Retries);
        Assert.Equal(new BreakerSettings
        {
            Enabled = true, ConsecutiveFailures = 7, FailureRatio = 0.25, MinRequests = 50, Window = TimeSpan.FromMinutes(1),
            OpenFor = TimeSpan.FromSeconds(15), HalfOpenProbes = 2,
        }, route.CircuitBreaker);
        Assert.Equal(TimeSpan.FromSeconds(90), route.TotalTimeout);
        // Target over route over provider.
        var (a, b) = (route.Targets[0], route.Targets[1]);
        Assert.Equal((TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4)),
            (a.ConnectTimeout, a.FirstByteTimeout, a.IdleTimeout, a.AttemptTimeout));
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), TimeSpan.Zero),
            (b.ConnectTimeout, b.FirstByteTimeout, b.IdleTimeout, b.AttemptTimeout));
    }

    [Fact]
    public void RouteDefaults_ApplyToEveryRoute_ARoutesFieldsOverrideThemOneByOne()
    {
        var c = Parse("""
              plain: { provider: openai, model: gpt-4o }
              tuned:
                provider: openai
                model: gpt-4o
                retries: { attempts: 2 }
                circuit_breaker: { open_for: 5s }
            """, """
            route_defaults:
              retries: { attempts: 3, backoff: 1s, max_backoff: 2s }
              timeouts: { first_byte: 20s }
              circuit_breaker: { consecutive_failures: 2 }
            """);
        var plain = c.Routes["plain"];
        Assert.Equal((3, TimeSpan.FromSeconds(1)), (plain.Retries.Attempts, plain.Retries.Backoff));
        Assert.Equal(TimeSpan.FromSeconds(20), plain.Targets[0].FirstByteTimeout);
        // route_defaults' breaker applies to one-target routes too.
        Assert.Equal(2, plain.CircuitBreaker!.ConsecutiveFailures);
        Assert.NotNull(plain.Targets[0].Breaker);

        var tuned = c.Routes["tuned"];
        Assert.Equal((2, TimeSpan.FromSeconds(1)), (tuned.Retries.Attempts, tuned.Retries.Backoff));
        Assert.Equal((2, TimeSpan.FromSeconds(5)), (tuned.CircuitBreaker!.ConsecutiveFailures, tuned.CircuitBreaker.OpenFor));
    }

    [Fact]
    public void Breaker_OffByDefaultForOneTarget_OnWhenAsked_OffWhenAsked()
    {
        var c = Parse("""
              one: { provider: openai, model: x, circuit_breaker: { consecutive_failures: 3 } }
              two:
                targets: [{ provider: openai, model: x }, { provider: mock, model: x }]
                circuit_breaker: off
              three:
                targets: [{ provider: openai, model: x }, { provider: mock, model: x }]
                circuit_breaker: { enabled: false }
            """);
        Assert.NotNull(c.Routes["one"].Targets[0].Breaker);
        Assert.All(c.Routes["two"].Targets, t => Assert.Null(t.Breaker));
        Assert.All(c.Routes["three"].Targets, t => Assert.Null(t.Breaker));
    }

    [Fact]
    public void RegionPolicy_LocalKeepsOnlyThisRegionsTargets_PreferLocalOrdersThemFirst()
    {
        var c = Parse("""
              local:
                region_policy: local
                targets:
                  - { provider: openai, model: us, region: us-east-1 }
                  - { provider: azure-eu, model: eu, region: eu-west-1 }
              prefer:
                region_policy: prefer_local
                targets:
                  - { provider: openai, model: us, region: us-east-1 }
                  - { provider: azure-eu, model: eu, region: eu-west-1 }
            """);
        Assert.Equal(["eu"], c.Routes["local"].Targets.Select(t => t.UpstreamModel));
        Assert.Equal(1, c.Routes["local"].Retries.Attempts);
        Assert.Equal(["eu", "us"], c.Routes["prefer"].Targets.Select(t => t.UpstreamModel));
        Assert.Equal(1u, c.Routes["prefer"].PreferredMask);
    }

    [Fact]
    public void HeaderValue_NonAsciiModel_PercentEncoded()
    {
        var t = Parse("  gpt: { provider: openai, model: \"modèle\\nx\" }").Routes["gpt"].Targets[0];
        Assert.Equal("openai/mod%C3%A8le%0Ax", t.HeaderValue);
    }

    [Theory]
    [InlineData("routes.r.strategy", "unknown strategy 'roundrobin'; one of: single, fallback, weighted, latency",
        "    strategy: roundrobin\n    targets: [{ provider: openai, model: a }, { provider: mock, model: b }]")]
    [InlineData("routes.r.strategy", "'single' takes one target", "    strategy: single\n    targets: [{ provider: openai, model: a }, { provider: mock, model: b }]")]
    [InlineData("routes.r.targets[1].weight", "weights only apply to strategy 'weighted'",
        "    targets: [{ provider: openai, model: a }, { provider: mock, model: b, weight: 2 }]")]
    [InlineData("routes.r.targets[1].weight", "is not a number between 1 and 1000",
        "    strategy: weighted\n    targets: [{ provider: openai, model: a }, { provider: mock, model: b, weight: 0 }]")]
    [InlineData("routes.r.targets[1]", "duplicate target: provider 'openai' with model 'a'",
        "    targets: [{ provider: openai, model: a }, { provider: openai, model: a }]")]
    [InlineData("routes.r.targets[0].provider", "unknown provider 'opneai'", "    targets: [{ provider: opneai, model: a }]")]
    [InlineData("routes.r.targets[0].modle", "unknown field 'modle' (did you mean 'model'?)", "    targets: [{ provider: openai, modle: a }]")]
    [InlineData("routes.r.targets", "needs at least one target", "    targets: []")]
    [InlineData("routes.r", "either provider/model/region (one target) or targets", "    provider: openai\n    targets: [{ provider: mock, model: b }]")]
    [InlineData("routes.r.region_policy", "no target of this route is in region 'eu-west-1'",
        "    region_policy: local\n    targets: [{ provider: openai, model: a, region: us-east-1 }]")]
    [InlineData("routes.r.region_policy", "unknown region_policy 'nearest'", "    region_policy: nearest\n    provider: openai")]
    [InlineData("routes.r.retries.attempts", "is not a number between 1 and 10", "    provider: openai\n    retries: { attempts: 11 }")]
    [InlineData("routes.r.retries.max_backoff", "shorter than backoff", "    provider: openai\n    retries: { backoff: 2s, max_backoff: 1s }")]
    [InlineData("routes.r.retries.budget.ratio", "is not a number between 0 and 10", "    provider: openai\n    retries: { budget: { ratio: lots } }")]
    [InlineData("routes.r.timeouts.idle", "must be longer than 0", "    provider: openai\n    timeouts: { idle: 0s }")]
    [InlineData("routes.r.timeouts.totl", "unknown field 'totl' (did you mean 'total'?)", "    provider: openai\n    timeouts: { totl: 5s }")]
    [InlineData("routes.r.circuit_breaker", "could never open", "    provider: openai\n    circuit_breaker: { consecutive_failures: 0, failure_ratio: 0 }")]
    [InlineData("routes.r.circuit_breaker.failure_ratio", "is not a number between 0 and 1", "    provider: openai\n    circuit_breaker: { failure_ratio: 2 }")]
    public void Mistake_ReportedWithPathLineAndReason(string path, string reason, string route)
    {
        var e = Assert.Throws<ConfigException>(() => Parse("  r:\n" + route));
        var error = Assert.Single(e.Errors, x => x.Path == path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line > 0, "the error names its line");
        Assert.Contains($"gateway.yaml:{error.Line}:{error.Column}: {path}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegionPolicy_WithoutServerRegion_SaysWhatIsMissing()
    {
        var yaml = Yaml("  r:\n    region_policy: prefer_local\n    provider: openai").Replace("  region: eu-west-1\n", "", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigException>(() => ConfigLoaderTests.Parse(yaml));
        Assert.Contains(e.Errors, x => x.Path == "routes.r.region_policy" && x.Reason.Contains("needs server.region", StringComparison.Ordinal));
    }

    [Fact]
    public void Reload_UnchangedTargetsKeepBreakerAndLatencyState_ChangedOnesStartFresh()
    {
        var loader = new ConfigLoader([new OpenAiKind(), new MockKind()]);
        var secrets = new SecretResolver("/nonexistent", name => name == "UPSTREAM_KEY" ? "k" : null);
        const string Routes = """
              r:
                strategy: latency
                targets:
                  - { provider: openai, model: a }
                  - { provider: azure-eu, model: b }
                retries: { attempts: 3 }
            """;
        var first = loader.Parse(Encoding.UTF8.GetBytes(Yaml(Routes)), "gateway.yaml", secrets);
        // Same routes, the Azure provider moved: its target starts fresh, OpenAI's keeps its state.
        var second = loader.Parse(Encoding.UTF8.GetBytes(Yaml(Routes).Replace("https://eu.example/v1", "https://eu2.example/v1", StringComparison.Ordinal)),
            "gateway.yaml", secrets, first);
        Assert.Same(first.Routes["r"].Targets[0].Breaker, second.Routes["r"].Targets[0].Breaker);
        Assert.Same(first.Routes["r"].Targets[0].Latency, second.Routes["r"].Targets[0].Latency);
        Assert.NotSame(first.Routes["r"].Targets[1].Breaker, second.Routes["r"].Targets[1].Breaker);
        Assert.Same(first.Routes["r"].Budget, second.Routes["r"].Budget);

        // New breaker settings: new breakers.
        var third = loader.Parse(Encoding.UTF8.GetBytes(Yaml(Routes + "\n    circuit_breaker: { open_for: 3s }")), "gateway.yaml", secrets, second);
        Assert.NotSame(second.Routes["r"].Targets[0].Breaker, third.Routes["r"].Targets[0].Breaker);
        Assert.Equal(TimeSpan.FromSeconds(3), third.Routes["r"].Targets[0].Breaker!.Settings.OpenFor);
    }
}
