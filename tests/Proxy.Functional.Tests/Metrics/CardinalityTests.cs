using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Metrics;

/// <summary>Labels come from the config, so a client cannot grow the series count.</summary>
public sealed class CardinalityTests
{
    [Fact]
    public async Task TenThousandUnknownModels_AddABoundedNumberOfSeries()
    {
        await using var env = await TestEnv.StartAsync();
        // One unknown model first, so the "other" series exist before the baseline.
        (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"warm-up","messages":[]}""")).Dispose();
        var before = await MetricsTests.ScrapeAsync(env.Gateway);

        await Parallel.ForAsync(0, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var r = await env.Gateway.PostAsync("/v1/chat/completions", $$"""{"model":"unknown-{{i}}-{{Guid.NewGuid():N}}","messages":[]}""");
            Assert.Equal(404, (int)r.StatusCode);
        });

        var after = await MetricsTests.ScrapeAsync(env.Gateway);
        Assert.Equal(before.SeriesCount, after.SeriesCount);
        Assert.DoesNotContain("unknown-", after.Text, StringComparison.Ordinal);
        Assert.Equal(10_001, after.Value("llm_gateway_requests_total", ("route", "other"), ("status", "404")));
    }
}
