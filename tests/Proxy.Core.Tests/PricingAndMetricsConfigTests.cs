using Proxy.Pricing;

namespace Proxy.Core.Tests;

public class PricingAndMetricsConfigTests
{
    [Theory]
    [InlineData("gpt-4o-mini", 0.15)]
    [InlineData("gpt-4o-mini-2024-07-18", 0.15)]
    [InlineData("gpt-4o-2024-08-06", 2.50)]
    [InlineData("claude-sonnet-4@20250514", 3.00)]
    [InlineData("claude-3-5-haiku-20241022", 0.80)]
    [InlineData("us.anthropic.claude-sonnet-4-20250514-v1:0", 3.00)]
    [InlineData("anthropic.claude-3-haiku-20240307-v1:0", 0.25)]
    [InlineData("gemini-2.5-flash", 0.30)]
    [InlineData("o1-mini-2024-09-12", 1.10)]
    public void BuiltInTable_MatchesDatedAndProfiledNames(string model, double input)
    {
        var price = PriceTable.BuiltIn.Find(model);
        Assert.NotNull(price);
        Assert.Equal(input, price.Input);
    }

    [Theory]
    [InlineData("mock-1")]
    [InlineData("gpt")]
    [InlineData("my-finetune")]
    public void UnknownModel_HasNoPrice(string model) => Assert.Null(PriceTable.BuiltIn.Find(model));

    [Fact]
    public void Cost_PricesCachedPromptTokensApart()
    {
        var price = new ModelPrice(Input: 2.0, Output: 8.0, CachedInput: 0.5);
        // 1,000 prompt tokens of which 400 cached, 100 completion tokens.
        long nano = price.CostNanoUsd(1_000, 100, 400);
        Assert.Equal((600 * 2.0 + 400 * 0.5 + 100 * 8.0) * 1_000, nano);
    }

    [Fact]
    public void ConfigPricing_OverridesTheBuiltInPriceAndReachesTheTarget()
    {
        var c = ConfigLoaderTests.Parse(ConfigLoaderTests.Valid + "\npricing:\n  gpt-4o-mini: { input: 0.1, output: 0.2, cached_input: 0.05 }\n");
        var price = c.Routes["gpt"].Targets[0].Price;
        Assert.Equal(new ModelPrice(0.1, 0.2, 0.05), price);
    }

    [Fact]
    public void ConfigPricing_WithoutOutput_IsAMistakeWithItsPath()
    {
        var e = ConfigLoaderTests.Invalid(ConfigLoaderTests.Valid + "\npricing:\n  my-model: { input: 0.1 }\n");
        var error = Assert.Single(e.Errors);
        Assert.Equal("pricing.my-model", error.Path);
        Assert.Contains("needs both input and output", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  path: /v1/metrics", "metrics.path", "not be under /v1/")]
    [InlineData("  listen: http://0.0.0.0:9464/metrics", "metrics.listen", "no path")]
    [InlineData("  enabled: sometimes", "metrics.enabled", "is not true or false")]
    public void MetricsSection_Mistakes_AreReported(string line, string path, string reason)
    {
        var e = ConfigLoaderTests.Invalid(ConfigLoaderTests.Valid + "\nmetrics:\n" + line + "\n");
        var error = Assert.Single(e.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MetricsSection_Defaults_ServeOnTheMainPort()
    {
        var c = ConfigLoaderTests.Parse(ConfigLoaderTests.Valid);
        Assert.True(c.Metrics.Enabled);
        Assert.Null(c.Metrics.Listen);
        Assert.Equal("/metrics", c.Metrics.Path);
    }
}
