using Proxy.Config;
using Proxy.Routing;
using Proxy.Routing.Strategies;

namespace Proxy.Core.Tests.Routing;

/// <summary>How an attempt's target is chosen: strategy, breakers, what this request already tried, the preferred region.</summary>
public sealed class TargetPickerTests
{
    private static Route Load(string route, string server = "")
    {
        var yaml = $$"""
            server:
              max_body_bytes: 1MiB
            {{server}}
            providers:
              a: { type: mock }
              b: { type: mock }
              c: { type: mock }
            routes:
            {{route}}
            keys: []
            """;
        return ConfigLoaderTests.Parse(yaml).Routes["r"];
    }

    private static int Pick(Route route, ref AttemptState state, uint exclude = 0)
    {
        int i = TargetPicker.Pick(route, ref state, exclude, out _);
        if (i >= 0) state.Begin(i);
        return i;
    }

    [Theory]
    [InlineData(new[] { 3, 1 }, new[] { 0, 0, 1, 0 })]
    [InlineData(new[] { 1, 1 }, new[] { 0, 1 })]
    [InlineData(new[] { 50, 50 }, new[] { 0, 1 })]
    [InlineData(new[] { 5, 1, 1 }, new[] { 0, 0, 1, 0, 2, 0, 0 })]
    public void WeightedSchedule_IsSmoothAndExact(int[] weights, int[] expected) => Assert.Equal(expected, WeightedBalance.BuildSchedule(weights));

    [Fact]
    public void Weighted_SharesRequestsExactlyByWeight()
    {
        var route = Load("""
              r:
                strategy: weighted
                targets:
                  - { provider: a, model: m, weight: 2 }
                  - { provider: b, model: m, weight: 1 }
                  - { provider: c, model: m, weight: 1 }
            """);
        var counts = new int[3];
        for (int i = 0; i < 400; i++)
        {
            var state = AttemptState.Start();
            counts[Pick(route, ref state)]++;
        }
        Assert.Equal([200, 100, 100], counts);
    }

    [Fact]
    public void Fallback_LeastTriedFirst_ThenAroundAgainInOrder()
    {
        var route = Load("""
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m }
                  - { provider: b, model: m }
                  - { provider: c, model: m }
                circuit_breaker: off
            """);
        var state = AttemptState.Start();
        Assert.Equal([0, 1, 2, 0, 1], Enumerable.Range(0, 5).Select(_ => Pick(route, ref state)));
    }

    [Fact]
    public void OpenBreaker_TargetSkipped_AndNoneLeftIsMinusOne()
    {
        var route = Load("""
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m }
                  - { provider: b, model: m }
                circuit_breaker: { consecutive_failures: 1 }
            """);
        Open(route.Targets[0]);
        var state = AttemptState.Start();
        Assert.Equal(1, Pick(route, ref state));
        Assert.True(state.HoldsLease);

        Open(route.Targets[1]);
        var next = AttemptState.Start();
        Assert.Equal(-1, Pick(route, ref next));
        Assert.InRange(TargetPicker.SoonestRecovery(route), TimeSpan.FromSeconds(29), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Exclude_KeepsATargetOut()
    {
        var route = Load("""
              r:
                targets:
                  - { provider: a, model: m }
                  - { provider: b, model: m }
            """);
        var state = AttemptState.Start();
        Assert.Equal(1, Pick(route, ref state, exclude: 1));
        Assert.Equal(-1, Pick(route, ref state, exclude: 0b11));
    }

    [Fact]
    public void PreferLocal_ThisRegionsTargetsFirst_WhateverTheStrategy()
    {
        var route = Load("""
              r:
                strategy: weighted
                region_policy: prefer_local
                targets:
                  - { provider: a, model: m, region: us, weight: 10 }
                  - { provider: b, model: m, region: eu, weight: 1 }
                  - { provider: c, model: m, region: eu, weight: 1 }
                circuit_breaker: off
            """, server: "  region: eu");
        Assert.Equal(["b", "c", "a"], route.Targets.Select(t => t.Provider.Name));
        for (int i = 0; i < 20; i++)
        {
            var state = AttemptState.Start();
            Assert.NotEqual("a", route.Targets[Pick(route, ref state)].Provider.Name);
            // Once both local targets were tried, the other region is next.
            Pick(route, ref state);
            Assert.Equal("a", route.Targets[Pick(route, ref state)].Provider.Name);
        }
    }

    [Fact]
    public void Latency_LowerScoreWins_UnmeasuredFirst()
    {
        var route = Load("""
              r:
                strategy: latency
                targets:
                  - { provider: a, model: m }
                  - { provider: b, model: m }
            """);
        route.Targets[0].Latency!.Observe(50_000);
        var state = AttemptState.Start();
        Assert.Equal(1, Pick(route, ref state)); // b has no sample yet
        route.Targets[1].Latency!.Observe(10_000);
        for (int i = 0; i < 20; i++)
        {
            var s = AttemptState.Start();
            Assert.Equal(1, TargetPicker.Pick(route, ref s, 0, out _));
            route.Targets[1].Breaker!.Release(s.Lease);
        }
        // Busy counts: b with 5 calls in flight scores 60 ms against a's 50 ms.
        for (int i = 0; i < 5; i++) route.Targets[1].Latency!.Started();
        var busy = AttemptState.Start();
        Assert.Equal(0, TargetPicker.Pick(route, ref busy, 0, out _));
    }

    [Fact]
    public void Latency_FailureCountsAsSlow()
    {
        var score = new LatencyScore();
        score.Observe(10_000);
        score.ObserveFailure(1_000);
        Assert.True(score.AverageUs > 10_000, $"a fast failure must not look fast: {score.AverageUs}");
    }

    private static void Open(Target target)
    {
        var b = target.Breaker!;
        Assert.True(b.TryAcquire(out var lease, out _));
        Assert.Equal(BreakerTransition.Opened, b.Record(lease, success: false));
    }
}
