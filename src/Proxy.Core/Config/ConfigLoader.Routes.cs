using System.Text;
using Proxy.Routing;
using Proxy.Routing.Strategies;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

// The routes: section: each route's targets, strategy and region policy (README "Routes").
public sealed partial class ConfigLoader
{
    private static readonly string[] RouteFields = ["provider", "model", "region", "targets", "strategy", "region_policy", "retries", "timeouts", "circuit_breaker", "limits", "cache"];
    private static readonly string[] TargetFields = ["provider", "model", "region", "weight", "timeouts"];
    private static readonly string[] RegionPolicies = ["any", "local", "prefer_local"];

    /// <summary>A route's policy fields, defaults applied, before its targets are known.</summary>
    private sealed record RoutePolicyFields(RetrySettings Retries, TimeoutOverrides Timeouts, BreakerSettings? Breaker, RoutingStrategy? Strategy,
        YamlNode? StrategyNode, RegionPolicy RegionPolicy, YamlNode? RegionPolicyNode);

    /// <summary>One target as written, before the route orders and indexes them.</summary>
    private sealed record TargetSpec(ProviderSettings Provider, string Model, string? Region, int? Weight, TimeoutOverrides Timeouts, YamlNode Node, string Path);

    private static Dictionary<string, Route> ReadRoutes(YamlReader r, YamlNode? node, Dictionary<string, ProviderSettings> providers,
        HashSet<string> declared, YamlNode root, Pricing.PriceTable prices, RouteDefaults defaults, ServerSettings server,
        Limits.LimitsSettings limits, Cache.CacheSettings cache)
    {
        var result = new Dictionary<string, Route>(StringComparer.Ordinal);
        var map = r.Mapping(node, "routes");
        if (map is null || map.Children.Count == 0)
        {
            if (!r.DataMayBeEmpty) r.Error(node ?? root, "routes", "at least one route is required: the model name clients send, and the provider that serves it");
            return result;
        }
        foreach (var (name, value, path) in r.Entries(map, "routes", null))
        {
            var m = r.Mapping(value, path);
            if (m is null) continue;
            var policy = new RoutePolicyFields(defaults.Retries, defaults.Timeouts, defaults.Breaker, null, null, RegionPolicy.Any, null);
            YamlNode? providerNode = null, targetsNode = null, modelNode = null, regionNode = null;
            Limits.LimitRule[] routeLimits = [];
            Cache.RouteCachePolicy? routeCache = null;
            foreach (var (key, v, p) in r.Entries(m, path, RouteFields))
            {
                switch (key)
                {
                    case "limits": routeLimits = ReadLimitRules(r, v, p, Limits.LimitScope.Route, name, limits); break;
                    case "cache": routeCache = ReadRouteCache(r, v, p, cache); break;
                    case "provider": providerNode = v; break;
                    case "model": modelNode = v; break;
                    case "region": regionNode = v; break;
                    case "targets": targetsNode = v; break;
                    case "strategy":
                        var strategy = r.String(v, p);
                        if (strategy is not null && RoutingStrategy.Find(strategy) is null)
                            r.Error(v, p, $"unknown strategy '{strategy}'; one of: {string.Join(", ", RoutingStrategy.All.Select(s => s.Name))}");
                        else policy = policy with { Strategy = RoutingStrategy.Find(strategy ?? ""), StrategyNode = v };
                        break;
                    case "region_policy":
                        var rp = r.String(v, p);
                        int at = rp is null ? -1 : Array.IndexOf(RegionPolicies, rp);
                        if (rp is not null && at < 0) r.Error(v, p, $"unknown region_policy '{rp}'; one of: {string.Join(", ", RegionPolicies)}");
                        else if (at >= 0) policy = policy with { RegionPolicy = (RegionPolicy)at, RegionPolicyNode = v };
                        break;
                    case "retries": policy = policy with { Retries = ReadRetries(r, v, p, policy.Retries) }; break;
                    case "timeouts": policy = policy with { Timeouts = ReadTimeouts(r, v, p, policy.Timeouts) }; break;
                    // A route's own block turns its breaker on (unless it says enabled: false), even when route_defaults turned them off.
                    case "circuit_breaker": policy = policy with { Breaker = ReadBreaker(r, v, p, (policy.Breaker ?? new BreakerSettings()) with { Enabled = null }) }; break;
                }
            }

            var specs = new List<TargetSpec>();
            if (targetsNode is not null)
            {
                if (providerNode is not null || modelNode is not null || regionNode is not null)
                    r.Error(providerNode ?? modelNode ?? regionNode, path, "give either provider/model/region (one target) or targets (a list), not both");
                ReadTargets(r, targetsNode, path + ".targets", providers, declared, name, specs);
            }
            else if (providerNode is null)
            {
                r.Error(m, path + ".provider", "missing: which provider serves this route (or a list of targets)");
                continue;
            }
            else if (ReadTarget(r, m, path, providers, declared, name, providerNode, modelNode, regionNode, weightNode: null, timeoutsNode: null) is { } single)
            {
                specs.Add(single);
            }
            if (specs.Count == 0) continue;
            if (BuildRoute(r, name, path, m, specs, policy, server, prices) is { } route)
            {
                route.Limits = routeLimits;
                route.Cache = routeCache;
                result[name] = route;
            }
        }
        return result;
    }

    private static void ReadTargets(YamlReader r, YamlNode node, string path, Dictionary<string, ProviderSettings> providers, HashSet<string> declared,
        string routeName, List<TargetSpec> specs)
    {
        var list = r.Sequence(node, path);
        if (list is null) return;
        if (list.Children.Count == 0) r.Error(node, path, "needs at least one target");
        if (list.Children.Count > Route.MaxTargets) r.Error(node, path, $"at most {Route.MaxTargets} targets per route");
        for (int i = 0; i < list.Children.Count && i < Route.MaxTargets; i++)
        {
            var p = $"{path}[{i}]";
            var m = r.Mapping(list.Children[i], p);
            if (m is null) continue;
            YamlNode? provider = null, model = null, region = null, weight = null, timeouts = null;
            foreach (var (key, v, _) in r.Entries(m, p, TargetFields))
            {
                switch (key)
                {
                    case "provider": provider = v; break;
                    case "model": model = v; break;
                    case "region": region = v; break;
                    case "weight": weight = v; break;
                    case "timeouts": timeouts = v; break;
                }
            }
            if (provider is null)
            {
                r.Error(m, p + ".provider", "missing: which provider this target calls");
                continue;
            }
            if (ReadTarget(r, m, p, providers, declared, routeName, provider, model, region, weight, timeouts) is { } spec) specs.Add(spec);
        }
    }

    private static TargetSpec? ReadTarget(YamlReader r, YamlMappingNode m, string path, Dictionary<string, ProviderSettings> providers, HashSet<string> declared,
        string defaultModel, YamlNode providerNode, YamlNode? modelNode, YamlNode? regionNode, YamlNode? weightNode, YamlNode? timeoutsNode)
    {
        var provider = r.String(providerNode, path + ".provider");
        var model = modelNode is null ? defaultModel : r.String(modelNode, path + ".model");
        var region = regionNode is null ? null : r.String(regionNode, path + ".region");
        var w = weightNode is null ? null : r.Number(weightNode, path + ".weight", 1, 1000);
        if (w is { } fraction && fraction != Math.Floor(fraction)) r.Error(weightNode, path + ".weight", $"'{fraction}' is not a whole number");
        int? weight = w is null ? null : (int)w;
        var timeouts = timeoutsNode is null ? TimeoutOverrides.None : ReadTimeouts(r, timeoutsNode, path + ".timeouts", TimeoutOverrides.None);
        if (provider is null) return null;
        if (!providers.TryGetValue(provider, out var settings))
        {
            // A provider that is declared but failed its own validation is already reported; only name truly missing ones.
            if (!declared.Contains(provider)) r.Error(providerNode, path + ".provider", $"unknown provider '{provider}'; defined: {string.Join(", ", providers.Keys.Order())}");
            return null;
        }
        if (model is null) return null;
        return new TargetSpec(settings, model, region, weight, timeouts, m, path);
    }

    private static Route? BuildRoute(YamlReader r, string name, string path, YamlMappingNode m, List<TargetSpec> specs, RoutePolicyFields policy,
        ServerSettings server, Pricing.PriceTable prices)
    {
        int errors = r.Errors.Count;
        var strategy = policy.Strategy ?? (specs.Count == 1 ? SingleTarget.Instance : OrderedFallback.Instance);
        if (strategy == SingleTarget.Instance && specs.Count > 1)
            r.Error(policy.StrategyNode ?? m, path + ".strategy", $"'single' takes one target, and this route has {specs.Count}; use fallback, weighted or latency");
        foreach (var s in specs.Where(s => s.Weight is not null && strategy != WeightedBalance.Instance))
            r.Error(s.Node, s.Path + ".weight", $"weights only apply to strategy 'weighted' (this route's is '{strategy.Name}')");
        foreach (var group in specs.GroupBy(s => (s.Provider.Name, s.Model)).Where(g => g.Count() > 1))
            r.Error(group.Last().Node, group.Last().Path, $"duplicate target: provider '{group.Key.Name}' with model '{group.Key.Model}' is already a target of this route");

        // Which targets this replica uses, and in what order (this region's first for prefer_local).
        var ordered = specs;
        uint preferred = uint.MaxValue;
        if (policy.RegionPolicy != RegionPolicy.Any)
        {
            if (server.Region is not { } here)
            {
                r.Error(policy.RegionPolicyNode, path + ".region_policy", "needs server.region: the region this gateway runs in");
                return null;
            }
            var local = specs.Where(s => s.Region == here).ToList();
            if (policy.RegionPolicy == RegionPolicy.Local)
            {
                if (local.Count == 0)
                    r.Error(policy.RegionPolicyNode, path + ".region_policy", $"no target of this route is in region '{here}' (server.region), and region_policy is local");
                ordered = local;
            }
            else
            {
                ordered = [.. local, .. specs.Where(s => s.Region != here)];
                preferred = local.Count == 0 ? uint.MaxValue : (1u << local.Count) - 1;
            }
        }

        var retries = policy.Retries;
        int attempts = retries.Attempts == 0 ? Math.Max(1, ordered.Count) : retries.Attempts;
        var breaker = policy.Breaker is { Enabled: false } ? null : policy.Breaker ?? (ordered.Count > 1 ? new BreakerSettings() : null);
        if (r.Errors.Count > errors || ordered.Count == 0) return null;

        var route = policy.Timeouts;
        var targets = new Target[ordered.Count];
        for (int i = 0; i < ordered.Count; i++)
        {
            var s = ordered[i];
            targets[i] = new Target
            {
                Index = i,
                Provider = s.Provider,
                UpstreamModel = s.Model,
                UpstreamModelJson = Encoding.UTF8.GetBytes("\"" + System.Text.Json.JsonEncodedText.Encode(s.Model).ToString() + "\""),
                SameNameUpstream = s.Model == name,
                Price = prices.Find(s.Model),
                Region = s.Region,
                Weight = s.Weight ?? 1,
                ConnectTimeout = s.Timeouts.Connect ?? route.Connect ?? s.Provider.ConnectTimeout,
                FirstByteTimeout = s.Timeouts.FirstByte ?? route.FirstByte ?? s.Provider.FirstByteTimeout,
                IdleTimeout = s.Timeouts.Idle ?? route.Idle ?? s.Provider.IdleTimeout,
                AttemptTimeout = s.Timeouts.Total ?? TimeSpan.Zero,
                HeaderValue = Pipeline.RoutingHeaders.ValueFor(s.Provider.Name, s.Model),
            };
        }
        return new Route
        {
            Name = name,
            Targets = targets,
            Strategy = strategy,
            RegionPolicy = policy.RegionPolicy,
            PreferredMask = preferred,
            Retries = retries with { Attempts = attempts },
            TotalTimeout = route.Total ?? TimeSpan.Zero,
            CircuitBreaker = breaker,
            Schedule = strategy == WeightedBalance.Instance ? WeightedBalance.BuildSchedule([.. targets.Select(t => t.Weight)]) : [],
        };
    }

    /// <summary>
    /// Breakers, latency scores and retry budgets live on the route's objects, made here for a new snapshot: a target
    /// whose route, provider (settings unchanged) and model are the same as in the previous snapshot keeps its state
    /// (an open breaker stays open across a reload); anything else starts fresh.
    /// </summary>
    private void AttachRoutingState(IEnumerable<Route> routes, GatewayConfig? previous)
    {
        foreach (var route in routes)
        {
            Route? old = null;
            previous?.Routes.TryGetValue(route.Name, out old);
            route.Budget = route.Retries.Attempts <= 1 ? null
                : old?.Budget is { } budget && budget.Settings == route.Retries.Budget ? budget : new RetryBudget(route.Retries.Budget, _time);
            foreach (var target in route.Targets)
            {
                var same = old?.Targets.FirstOrDefault(t => t.Provider.Name == target.Provider.Name && t.Provider.Fingerprint == target.Provider.Fingerprint
                    && t.UpstreamModel == target.UpstreamModel);
                if (route.CircuitBreaker is { } settings)
                    target.Breaker = same?.Breaker is { } b && b.Settings == settings ? b : new CircuitBreaker(settings, _time);
                if (route.Strategy == LeastLatency.Instance) target.Latency = same?.Latency ?? new LatencyScore();
            }
        }
    }
}
