using System.Collections.Frozen;
using Proxy.Keys;
using Proxy.Routing;

namespace Proxy.Config;

/// <summary>
/// One immutable snapshot of everything the request path reads. A config source builds a new one
/// and swaps it in (<see cref="ConfigHolder"/>); the request path reads it with one volatile load.
/// </summary>
public sealed class GatewayConfig
{
    public required string SourcePath { get; init; }
    public required ServerSettings Server { get; init; }
    public required FrozenDictionary<string, ProviderSettings> Providers { get; init; }
    public required FrozenDictionary<string, Route> Routes { get; init; }

    /// <summary>The same routes, looked up by the UTF-16 span decoded from the request without allocating a string.</summary>
    public FrozenDictionary<string, Route>.AlternateLookup<ReadOnlySpan<char>> RoutesBySpan { get; private init; }

    public required KeyTable Keys { get; init; }

    public required LogSettings Logs { get; init; }

    /// <summary>Where /metrics is served; read at start only.</summary>
    public MetricsSettings Metrics { get; init; } = new();

    /// <summary>OpenTelemetry tracing; read at start only.</summary>
    public TracingSettings Tracing { get; init; } = new();

    /// <summary>Prices by upstream model: the built-in table with the config's pricing: entries over it.</summary>
    public Pricing.PriceTable Pricing { get; init; } = Proxy.Pricing.PriceTable.BuiltIn;

    /// <summary>The limits stage's store and fail mode (the limits themselves are on keys, teams and routes).</summary>
    public Limits.LimitsSettings Limits { get; init; } = new();

    /// <summary>The response cache's store (the caching itself is per route); read at start only.</summary>
    public Cache.CacheSettings Cache { get; init; } = new();

    /// <summary>The control plane (Postgres), when configured; read at start only.</summary>
    public ControlPlaneSettings? ControlPlane { get; init; }

    /// <summary>The shared Redis, when configured; read at start only.</summary>
    public RedisSettings? Redis { get; init; }

    /// <summary>Hash of the file's bytes, so a watcher event that changed nothing does not reload.</summary>
    public required string ContentHash { get; init; }

    public static GatewayConfig Create(
        string sourcePath, ServerSettings server, FrozenDictionary<string, ProviderSettings> providers,
        FrozenDictionary<string, Route> routes, KeyTable keys, LogSettings logs, string contentHash,
        MetricsSettings? metrics = null, Pricing.PriceTable? pricing = null, TracingSettings? tracing = null,
        Limits.LimitsSettings? limits = null, RedisSettings? redis = null, Cache.CacheSettings? cache = null,
        ControlPlaneSettings? controlPlane = null) => new()
        {
            ControlPlane = controlPlane,
            Cache = cache ?? new Cache.CacheSettings(),
            Limits = limits ?? new Limits.LimitsSettings(),
            Redis = redis,
            Tracing = tracing ?? new TracingSettings(),
            Metrics = metrics ?? new MetricsSettings(),
            Pricing = pricing ?? Proxy.Pricing.PriceTable.BuiltIn,
            Logs = logs,
            SourcePath = sourcePath,
            Server = server,
            Providers = providers,
            Routes = routes,
            RoutesBySpan = routes.GetAlternateLookup<ReadOnlySpan<char>>(),
            Keys = keys,
            ContentHash = contentHash,
        };
}

public sealed class ServerSettings
{
    /// <summary>Used only when neither --urls nor ASPNETCORE_URLS says where to listen.</summary>
    public string? Urls { get; init; }

    /// <summary>Requests with a larger body get 413 before the gateway reads past the limit.</summary>
    public long MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Handle requests on the socket I/O threads (Kestrel's inline scheduling and the runtime's inline socket
    /// completions, one epoll thread per core) instead of hopping to the thread pool at every read. Read at start
    /// only. On by default: on 2 cores it cut CPU per request by ~15% and the fixed-rate p99 with it
    /// (perf/README.md). Off is the safe choice for code that might block, which the request path does not.
    /// </summary>
    public bool InlineIo { get; init; } = true;

    /// <summary>
    /// The region this replica runs in (e.g. <c>${AWS_REGION}</c>, so one file serves every region): routes with a
    /// region_policy use the targets tagged with it. Null when not set.
    /// </summary>
    public string? Region { get; init; }

    /// <summary>
    /// The most proxied requests (chat completions and embeddings; a stream until its last byte) handled at once;
    /// past it a request is refused at once with 503 gateway_overloaded (<see cref="Pipeline.AdmissionGate"/>).
    /// Null (the default, "auto"): derived from the open-file limit; 0 ("unlimited"): no cap. Reloadable.
    /// </summary>
    public int? MaxConcurrentRequests { get; init; }
}

public sealed class MetricsSettings
{
    /// <summary>Serve /metrics at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// A separate listen address for /metrics (e.g. http://0.0.0.0:9464), so scrapes never share the client port and a
    /// network policy can keep them apart; null serves it on the main port.
    /// </summary>
    public Uri? Listen { get; init; }

    public string Path { get; init; } = "/metrics";
}

public sealed class TracingSettings
{
    /// <summary>
    /// Off by default: two spans cost about 2 µs and 2.4 KB per request in process (perf TracingBenchmarks) and need a
    /// collector to go to.
    /// </summary>
    public bool Enabled { get; init; }

    /// <summary>The OTLP endpoint; null uses OTEL_EXPORTER_OTLP_ENDPOINT, else the exporter's default (localhost).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>"http/protobuf" (the default, port 4318) or "grpc" (port 4317).</summary>
    public string Protocol { get; init; } = "http/protobuf";

    public string ServiceName { get; init; } = "llm-gateway";

    /// <summary>Share of new traces recorded; a client's sampled flag in traceparent is always honoured.</summary>
    public double SampleRatio { get; init; } = 1.0;

    /// <summary>Headers sent to the collector (an API key for a hosted one); values may be ${ENV} secrets.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
