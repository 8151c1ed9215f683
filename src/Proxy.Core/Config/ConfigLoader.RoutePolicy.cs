using Proxy.Routing;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

// A route's policy blocks (retries:, timeouts:, circuit_breaker:), in a route or in route_defaults:.
public sealed partial class ConfigLoader
{
    private static readonly string[] RouteDefaultFields = ["retries", "timeouts", "circuit_breaker"];
    private static readonly string[] RetryFields = ["attempts", "backoff", "max_backoff", "max_retry_after", "budget"];
    private static readonly string[] BudgetFields = ["ratio", "min_per_second", "window"];
    private static readonly string[] TimeoutFields = ["connect", "first_byte", "idle", "total"];
    private static readonly string[] BreakerFields = ["enabled", "consecutive_failures", "failure_ratio", "min_requests", "window", "open_for", "half_open_probes"];

    /// <summary>What route_defaults: sets for every route; a route's own fields override them one by one.</summary>
    private sealed record RouteDefaults(RetrySettings Retries, TimeoutOverrides Timeouts, BreakerSettings? Breaker);

    private static RouteDefaults ReadRouteDefaults(YamlReader r, YamlNode? node)
    {
        var defaults = new RouteDefaults(new RetrySettings { Attempts = 0 }, TimeoutOverrides.None, null);
        var map = r.Mapping(node, "route_defaults");
        if (map is null) return defaults;
        foreach (var (key, value, p) in r.Entries(map, "route_defaults", RouteDefaultFields))
        {
            switch (key)
            {
                case "retries": defaults = defaults with { Retries = ReadRetries(r, value, p, defaults.Retries) }; break;
                case "timeouts": defaults = defaults with { Timeouts = ReadTimeouts(r, value, p, defaults.Timeouts) }; break;
                case "circuit_breaker": defaults = defaults with { Breaker = ReadBreaker(r, value, p, new BreakerSettings()) }; break;
            }
        }
        return defaults;
    }

    private static RetrySettings ReadRetries(YamlReader r, YamlNode node, string path, RetrySettings start)
    {
        var map = r.Mapping(node, path);
        if (map is null) return start;
        var s = start;
        foreach (var (key, v, p) in r.Entries(map, path, RetryFields))
        {
            switch (key)
            {
                case "attempts": s = s with { Attempts = (int)(r.Number(v, p, 1, 10) ?? s.Attempts) }; break;
                case "backoff": s = s with { Backoff = r.Duration(v, p) ?? s.Backoff }; break;
                case "max_backoff": s = s with { MaxBackoff = r.Duration(v, p) ?? s.MaxBackoff }; break;
                case "max_retry_after": s = s with { MaxRetryAfter = r.Duration(v, p) ?? s.MaxRetryAfter }; break;
                case "budget": s = s with { Budget = ReadBudget(r, v, p, s.Budget) }; break;
            }
        }
        if (s.MaxBackoff < s.Backoff) r.Error(map, path + ".max_backoff", $"shorter than backoff ({s.Backoff.TotalMilliseconds:0}ms)");
        return s;
    }

    private static RetryBudgetSettings ReadBudget(YamlReader r, YamlNode node, string path, RetryBudgetSettings start)
    {
        var map = r.Mapping(node, path);
        if (map is null) return start;
        var s = start;
        foreach (var (key, v, p) in r.Entries(map, path, BudgetFields))
        {
            switch (key)
            {
                case "ratio": s = s with { Ratio = r.Number(v, p, 0, 10) ?? s.Ratio }; break;
                case "min_per_second": s = s with { MinPerSecond = (int)(r.Number(v, p, 0, 100_000) ?? s.MinPerSecond) }; break;
                case "window": s = s with { Window = Positive(r, v, p) ?? s.Window }; break;
            }
        }
        return s;
    }

    private static TimeoutOverrides ReadTimeouts(YamlReader r, YamlNode node, string path, TimeoutOverrides start)
    {
        var map = r.Mapping(node, path);
        if (map is null) return start;
        var s = start;
        foreach (var (key, v, p) in r.Entries(map, path, TimeoutFields))
        {
            var d = Positive(r, v, p);
            if (d is null) continue;
            s = key switch
            {
                "connect" => s with { Connect = d },
                "first_byte" => s with { FirstByte = d },
                "idle" => s with { Idle = d },
                _ => s with { Total = d },
            };
        }
        return s;
    }

    private static BreakerSettings ReadBreaker(YamlReader r, YamlNode node, string path, BreakerSettings start)
    {
        // "circuit_breaker: off" (or false) is the short way to turn it off.
        if (node is YamlScalarNode { Value: "off" or "false" }) return start with { Enabled = false };
        var map = r.Mapping(node, path);
        if (map is null) return start with { Enabled = start.Enabled ?? true };
        var s = start;
        foreach (var (key, v, p) in r.Entries(map, path, BreakerFields))
        {
            switch (key)
            {
                case "enabled": s = s with { Enabled = r.Bool(v, p) ?? s.Enabled }; break;
                case "consecutive_failures": s = s with { ConsecutiveFailures = (int)(r.Number(v, p, 0, 10_000) ?? s.ConsecutiveFailures) }; break;
                case "failure_ratio": s = s with { FailureRatio = r.Number(v, p, 0, 1) ?? s.FailureRatio }; break;
                case "min_requests": s = s with { MinRequests = (int)(r.Number(v, p, 1, 1_000_000) ?? s.MinRequests) }; break;
                case "window": s = s with { Window = Positive(r, v, p) ?? s.Window }; break;
                case "open_for": s = s with { OpenFor = Positive(r, v, p) ?? s.OpenFor }; break;
                case "half_open_probes": s = s with { HalfOpenProbes = (int)(r.Number(v, p, 1, 100) ?? s.HalfOpenProbes) }; break;
            }
        }
        if (s.ConsecutiveFailures == 0 && s.FailureRatio == 0)
            r.Error(map, path, "consecutive_failures and failure_ratio are both 0, so it could never open; write enabled: false to turn it off");
        return s with { Enabled = s.Enabled ?? true };
    }

    private static TimeSpan? Positive(YamlReader r, YamlNode node, string path)
    {
        var d = r.Duration(node, path);
        if (d is { } t && t <= TimeSpan.Zero)
        {
            r.Error(node, path, "must be longer than 0");
            return null;
        }
        return d;
    }
}
