using Proxy.Config;

namespace Proxy.Routing;

/// <summary>A name a client sends as <c>model</c>, and the targets behind it.</summary>
public sealed class Route
{
    public required string Name { get; init; }

    /// <summary>In order of preference. One target today; strategies over several arrive with routing (issue 8).</summary>
    public required Target[] Targets { get; init; }
}

/// <summary>One provider and the model name that provider knows.</summary>
public sealed class Target
{
    public required ProviderSettings Provider { get; init; }

    public required string UpstreamModel { get; init; }

    /// <summary>The upstream model as a JSON string literal, quotes included, ready to splice into a body.</summary>
    public required byte[] UpstreamModelJson { get; init; }

    /// <summary>True when the client's model name can go upstream unchanged, so no splice is needed.</summary>
    public required bool SameNameUpstream { get; init; }

    /// <summary>The upstream model's price, or null when it is not known (its cost is then not counted).</summary>
    public Pricing.ModelPrice? Price { get; init; }

    /// <summary>This target's request series, bound when the config is put in force.</summary>
    public Metrics.TargetSeries? Metrics { get; set; }
}
