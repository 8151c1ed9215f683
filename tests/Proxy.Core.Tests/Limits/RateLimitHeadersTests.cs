using Microsoft.AspNetCore.Http;
using Proxy.Limits;

namespace Proxy.Core.Tests.Limits;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(17, "17ms")]
    [InlineData(1500, "2s")]
    [InlineData(1000, "1s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(59_001, "1m0s")]
    [InlineData(61_000, "1m1s")]
    public void Durations_AsOpenAIWritesThem(long ms, string text) => Assert.Equal(text, RateLimitHeaders.Duration(TimeSpan.FromMilliseconds(ms)));

    [Fact]
    public void EachKind_FromItsTightestEnforcedCounter()
    {
        var ctx = new DefaultHttpContext();
        LimitCheck[] checks =
        [
            new(new LimitRule(LimitScope.Key, "k", LimitKind.Requests, 100, false, StoreFailureMode.Open), 1),
            new(new LimitRule(LimitScope.Route, "r", LimitKind.Requests, 1000, false, StoreFailureMode.Open), 1),
            new(new LimitRule(LimitScope.Team, "t", LimitKind.Requests, 5, true, StoreFailureMode.Open), 1), // shadow: not shown
            new(new LimitRule(LimitScope.Key, "k", LimitKind.Tokens, 5000, false, StoreFailureMode.Open), 70),
        ];
        var decision = new LimitDecision(
        [
            new(100, 40, TimeSpan.FromSeconds(12), true, TimeSpan.Zero),
            new(1000, 10, TimeSpan.FromMilliseconds(1500), true, TimeSpan.Zero),
            new(5, 0, TimeSpan.FromSeconds(1), false, TimeSpan.FromSeconds(1)),
            new(5000, 4930, TimeSpan.FromSeconds(60), true, TimeSpan.Zero),
        ], 0);
        RateLimitHeaders.Set(ctx.Response, checks, decision);
        var h = ctx.Response.Headers;
        Assert.Equal(("1000", "10", "2s"), (h["x-ratelimit-limit-requests"].ToString(), h["x-ratelimit-remaining-requests"].ToString(), h["x-ratelimit-reset-requests"].ToString()));
        Assert.Equal("2s", h["x-ratelimit-reset-requests"].ToString());
        Assert.Equal(("5000", "4930", "1m0s"), (h["x-ratelimit-limit-tokens"].ToString(), h["x-ratelimit-remaining-tokens"].ToString(), h["x-ratelimit-reset-tokens"].ToString()));
    }
}
