namespace Proxy.Metrics;

/// <summary>Label values the gateway uses where a name is unknown or absent.</summary>
internal static class Labels
{
    /// <summary>Label value for a name the config does not know (a client cannot grow the series count).</summary>
    public const string Other = "other";

    /// <summary>Label value where there was none: no provider was called.</summary>
    public const string None = "none";
}
