using Proxy.Pricing;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

// The metrics: and pricing: sections.
public sealed partial class ConfigLoader
{
    private static readonly string[] MetricsFields = ["enabled", "listen", "path"];
    private static readonly string[] PriceFields = ["input", "output", "cached_input", "cache_write"];
    private static readonly string[] TracingFields = ["enabled", "endpoint", "protocol", "service_name", "sample_ratio", "headers"];

    private static TracingSettings ReadTracing(YamlReader r, YamlNode? node)
    {
        var defaults = new TracingSettings();
        var map = r.Mapping(node, "tracing");
        if (map is null) return defaults;
        bool enabled = defaults.Enabled;
        Uri? endpoint = null;
        string protocol = defaults.Protocol, service = defaults.ServiceName;
        double ratio = defaults.SampleRatio;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (key, value, p) in r.Entries(map, "tracing", TracingFields))
        {
            switch (key)
            {
                case "enabled": enabled = r.Bool(value, p) ?? enabled; break;
                case "endpoint": endpoint = r.Url(value, p); break;
                case "protocol":
                    protocol = r.String(value, p) ?? protocol;
                    if (protocol is not ("http/protobuf" or "grpc")) r.Error(value, p, "must be http/protobuf or grpc");
                    break;
                case "service_name": service = r.String(value, p) ?? service; break;
                case "sample_ratio": ratio = r.Number(value, p, 0, 1) ?? ratio; break;
                case "headers":
                    if (r.Mapping(value, p) is { } h)
                    {
                        foreach (var (name, v, hp) in r.Entries(h, p, null))
                        {
                            if (r.String(v, hp) is { } s) headers.Add(new(name, s));
                        }
                    }
                    break;
            }
        }
        return new TracingSettings { Enabled = enabled, Endpoint = endpoint, Protocol = protocol, ServiceName = service, SampleRatio = ratio, Headers = headers };
    }

    private static MetricsSettings ReadMetrics(YamlReader r, YamlNode? node)
    {
        var defaults = new MetricsSettings();
        var map = r.Mapping(node, "metrics");
        if (map is null) return defaults;
        bool enabled = defaults.Enabled;
        Uri? listen = null;
        string path = defaults.Path;
        foreach (var (key, value, p) in r.Entries(map, "metrics", MetricsFields))
        {
            switch (key)
            {
                case "enabled": enabled = r.Bool(value, p) ?? enabled; break;
                case "listen":
                    listen = r.Url(value, p);
                    if (listen is { } u && (u.Port <= 0 || u.AbsolutePath != "/"))
                        r.Error(value, p, "must be scheme://host:port with no path, e.g. http://0.0.0.0:9464");
                    break;
                case "path":
                    path = r.String(value, p) ?? path;
                    if (!path.StartsWith('/') || path.StartsWith("/v1/", StringComparison.Ordinal))
                        r.Error(value, p, "must start with '/' and not be under /v1/ (the API's paths)");
                    break;
            }
        }
        return new MetricsSettings { Enabled = enabled, Listen = listen, Path = path };
    }

    /// <summary>pricing: MODEL: { input, output, cached_input, cache_write } in USD per million tokens, over the built-in table.</summary>
    private static PriceTable ReadPricing(YamlReader r, YamlNode? node)
    {
        var map = r.Mapping(node, "pricing");
        if (map is null) return PriceTable.BuiltIn;
        var overrides = new List<KeyValuePair<string, ModelPrice>>();
        foreach (var (model, value, path) in r.Entries(map, "pricing", null))
        {
            var entry = r.Mapping(value, path);
            if (entry is null) continue;
            double? input = null, output = null, cached = null, cacheWrite = null;
            foreach (var (key, v, p) in r.Entries(entry, path, PriceFields))
            {
                var price = r.Number(v, p, 0, 10_000);
                switch (key)
                {
                    case "input": input = price; break;
                    case "output": output = price; break;
                    case "cached_input": cached = price; break;
                    case "cache_write": cacheWrite = price; break;
                }
            }
            if (input is null || output is null)
            {
                r.Error(entry, path, "needs both input and output (USD per million tokens; 0 for free)");
                continue;
            }
            overrides.Add(new(model, new ModelPrice(input.Value, output.Value, cached, cacheWrite)));
        }
        return new PriceTable(overrides);
    }
}
