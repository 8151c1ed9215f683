namespace Proxy.Pricing;

/// <summary>List prices of one model in USD per million tokens.</summary>
/// <param name="CachedInput">Price of prompt tokens served from the provider's cache; null means the input price.</param>
/// <param name="CacheWrite">Price of prompt tokens written to the provider's cache (Anthropic: 1.25x input); null means the input price.</param>
public sealed record ModelPrice(double Input, double Output, double? CachedInput = null, double? CacheWrite = null)
{
    /// <summary>
    /// Cost in billionths of a USD. Prompt tokens follow OpenAI's usage shape (cached tokens are included in the
    /// prompt count), so cached ones are priced separately and the rest at the input price.
    /// </summary>
    public long CostNanoUsd(long promptTokens, long completionTokens, long cachedTokens, long cacheWriteTokens = 0)
    {
        long cached = Math.Clamp(cachedTokens, 0, promptTokens);
        long written = Math.Clamp(cacheWriteTokens, 0, promptTokens - cached);
        // USD per 1M tokens is 1,000 nano-USD per token.
        double nano = ((promptTokens - cached - written) * Input + cached * (CachedInput ?? Input) + written * (CacheWrite ?? Input)
            + completionTokens * Output) * 1_000;
        return (long)Math.Round(nano);
    }
}
