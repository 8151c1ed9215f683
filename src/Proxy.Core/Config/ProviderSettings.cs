using Proxy.Providers;

namespace Proxy.Config;

/// <summary>A provider as configured: where it is, how to authenticate, how long to wait.</summary>
public sealed class ProviderSettings
{
    public required string Name { get; init; }

    /// <summary>The adapter that speaks this provider's API: "openai", "mock".</summary>
    public required string Type { get; init; }

    /// <summary>Base URL ending before the operation path (".../v1"). Only ever from configuration.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Secret resolved from ${ENV} or ${file:...}; never logged, never written back.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Extra headers sent upstream on every request (organization, project ids).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From sending the request to the upstream's response headers; past it the client gets 504.</summary>
    public TimeSpan FirstByteTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Longest silence between two reads of a streamed answer before it is failed as stalled.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Most connections the gateway opens to this provider (HTTP/1.1); past it requests wait for a free one
    /// instead of opening more. 0 is no limit. Protects upstreams with bounded concurrency (vLLM, Ollama).
    /// </summary>
    public int MaxConnections { get; init; }

    /// <summary>Outbound HTTP proxy for this provider; none unless configured (environment proxies are ignored on purpose).</summary>
    public Uri? HttpProxy { get; init; }

    /// <summary>Fields only this provider type knows (a mock's pacing, a cloud's region), already ${...}-expanded.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>The adapter built for this provider in this snapshot, reused by later snapshots while nothing here changes.</summary>
    public ProviderAdapter Adapter { get; internal set; } = null!;

    /// <summary>This provider's series (upstream errors), bound when the config is put in force.</summary>
    public Metrics.ProviderSeries? Metrics { get; set; }

    /// <summary>Everything that shapes the adapter and its connection pool; equal fingerprints share one adapter across reloads.</summary>
    internal string Fingerprint { get; init; } = "";
}
