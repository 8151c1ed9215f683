using System.Collections.Frozen;

namespace Proxy.Pricing;

/// <summary>
/// Prices by upstream model name: the built-in list (<see cref="BuiltInPrices"/>) with the config's pricing:
/// entries over it. A model matches its own entry or the longest entry it extends at a version boundary, so
/// "gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini", "claude-sonnet-4@20250514" as "claude-sonnet-4", and a
/// Bedrock cross-region profile "us.anthropic.claude-..." as "anthropic.claude-...".
/// </summary>
public sealed class PriceTable
{
    private static readonly string[] RegionPrefixes = ["us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "global."];

    private readonly FrozenDictionary<string, ModelPrice> _prices;

    public PriceTable(IEnumerable<KeyValuePair<string, ModelPrice>> overrides)
    {
        var all = new Dictionary<string, ModelPrice>(BuiltInPrices.Table, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in overrides) all[model] = price;
        _prices = all.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public static PriceTable BuiltIn { get; } = new([]);

    /// <summary>The price for an upstream model, or null when neither the table nor the config knows it.</summary>
    public ModelPrice? Find(string model)
    {
        if (Longest(model) is { } price) return price;
        foreach (var prefix in RegionPrefixes)
        {
            if (model.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return Longest(model[prefix.Length..]);
        }
        return null;
    }

    private ModelPrice? Longest(string model)
    {
        // Drop trailing parts at version boundaries until an entry matches: "-2024-07-18", "@20250514", ":0", "-v1".
        var name = model.AsSpan();
        var lookup = _prices.GetAlternateLookup<ReadOnlySpan<char>>();
        while (true)
        {
            if (lookup.TryGetValue(name, out var price)) return price;
            int cut = name.LastIndexOfAny('-', '@', ':');
            if (cut <= 0) return null;
            name = name[..cut];
        }
    }
}
