using Proxy.Keys;
using Proxy.Limits;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

/// <summary>The <c>limits:</c>, <c>redis:</c> and <c>teams:</c> sections, and the <c>limits:</c> block of a key, team or route.</summary>
public sealed partial class ConfigLoader
{
    private static readonly string[] LimitsFields = ["store", "timeout", "on_store_failure", "replicas", "default_output_tokens", "lease_ttl"];
    private static readonly string[] RedisFields = ["url", "password", "connect_timeout", "key_prefix"];
    private static readonly string[] TeamFields = ["limits", "budget"];
    private static readonly string[] LimitRuleFields = ["requests_per_minute", "tokens_per_minute", "concurrent_requests", "shadow", "on_store_failure"];
    private static readonly string[] Stores = ["memory", "redis"];
    private static readonly string[] FailureModes = ["open", "closed"];

    private static LimitsSettings ReadLimitsSettings(YamlReader r, YamlNode? node, RedisSettings? redis)
    {
        var settings = new LimitsSettings();
        var map = r.Mapping(node, "limits");
        if (map is null) return settings;
        bool replicasSet = false;
        foreach (var (key, v, p) in r.Entries(map, "limits", LimitsFields))
        {
            switch (key)
            {
                case "store": if (ReadStore(r, v, p, redis) is { } store) settings = settings with { Store = store }; break;
                case "timeout":
                    if (r.Duration(v, p) is { } t)
                    {
                        if (t <= TimeSpan.Zero || t > TimeSpan.FromSeconds(5)) r.Error(v, p, "must be more than 0 and at most 5s: every limited request may wait this long on a failing store");
                        else settings = settings with { Timeout = t };
                    }
                    break;
                case "on_store_failure": if (ReadFailureMode(r, v, p) is { } mode) settings = settings with { OnStoreFailure = mode }; break;
                case "replicas":
                    replicasSet = true;
                    if (r.Number(v, p, 1, 1000) is { } n) settings = settings with { Replicas = (int)n };
                    break;
                case "default_output_tokens": if (r.Number(v, p, 1, 10_000_000) is { } o) settings = settings with { DefaultOutputTokens = (long)o }; break;
                case "lease_ttl":
                    if (r.Duration(v, p) is { } ttl)
                    {
                        if (ttl < TimeSpan.FromSeconds(3)) r.Error(v, p, "must be at least 3s: leases are renewed every third of it");
                        else settings = settings with { LeaseTtl = ttl };
                    }
                    break;
            }
        }
        // Failing open, each replica decides alone at limit / replicas: a shared store without the count would let every
        // replica admit the whole limit the moment the store fails.
        if (settings.Store == "redis" && settings.OnStoreFailure == StoreFailureMode.Open && !replicasSet)
            r.Error(map, "limits.replicas", "missing: with store 'redis' and on_store_failure 'open', how many replicas share the limits (each decides alone at limit / replicas while Redis is down)");
        return settings;
    }

    private static RedisSettings? ReadRedis(YamlReader r, YamlNode? node)
    {
        var map = r.Mapping(node, "redis");
        if (map is null) return null;
        string? url = null, password = null, prefix = null;
        TimeSpan? connect = null;
        foreach (var (key, v, p) in r.Entries(map, "redis", RedisFields))
        {
            switch (key)
            {
                case "url": url = r.String(v, p); break;
                case "password": password = r.String(v, p); break;
                case "connect_timeout": connect = r.Duration(v, p); break;
                case "key_prefix":
                    prefix = r.String(v, p);
                    if (prefix is not null && (prefix.Length == 0 || prefix.AsSpan().IndexOfAny("{}: ") >= 0))
                        r.Error(v, p, "a non-empty name without braces, colons or spaces (it becomes the keys' hash tag)");
                    break;
            }
        }
        if (url is null)
        {
            r.Error(map, "redis.url", "missing: where Redis is (redis://host:6379, rediss://host:6380 for TLS)");
            return null;
        }
        return new RedisSettings
        {
            Url = url,
            Password = password,
            ConnectTimeout = connect ?? TimeSpan.FromSeconds(5),
            KeyPrefix = prefix ?? "llmgw",
        };
    }

    private static Dictionary<string, Team> ReadTeams(YamlReader r, YamlNode? node, LimitsSettings limits)
    {
        var teams = new Dictionary<string, Team>(StringComparer.Ordinal);
        var map = r.Mapping(node, "teams");
        if (map is null) return teams;
        foreach (var (name, value, path) in r.Entries(map, "teams", null))
        {
            var rules = Array.Empty<LimitRule>();
            Budgets.BudgetRule? budget = null;
            if (r.Mapping(value, path) is { } m)
            {
                foreach (var (key, v, p) in r.Entries(m, path, TeamFields))
                {
                    if (key == "limits") rules = ReadLimitRules(r, v, p, LimitScope.Team, name, limits);
                    else if (key == "budget") budget = ReadBudget(r, v, p, Budgets.BudgetScope.Team, name);
                }
            }
            teams[name] = new Team { Name = name, Limits = rules, Budget = budget };
        }
        return teams;
    }

    /// <summary>A <c>limits:</c> block: the rules in a fixed order (requests, tokens, concurrency), which the store's locks rely on.</summary>
    private static LimitRule[] ReadLimitRules(YamlReader r, YamlNode node, string path, LimitScope scope, string holder, LimitsSettings limits)
    {
        var map = r.Mapping(node, path);
        if (map is null) return [];
        long? rpm = null, tpm = null, concurrent = null;
        bool shadow = false;
        var mode = limits.OnStoreFailure;
        foreach (var (key, v, p) in r.Entries(map, path, LimitRuleFields))
        {
            switch (key)
            {
                case "requests_per_minute": rpm = (long?)r.Number(v, p, 1, 1e12); break;
                case "tokens_per_minute": tpm = (long?)r.Number(v, p, 1, 1e15); break;
                case "concurrent_requests": concurrent = (long?)r.Number(v, p, 1, 1e7); break;
                case "shadow": shadow = r.Bool(v, p) ?? false; break;
                case "on_store_failure": mode = ReadFailureMode(r, v, p) ?? mode; break;
            }
        }
        var rules = new List<LimitRule>(3);
        if (rpm is { } a) rules.Add(new LimitRule(scope, holder, LimitKind.Requests, a, shadow, mode));
        if (tpm is { } b) rules.Add(new LimitRule(scope, holder, LimitKind.Tokens, b, shadow, mode));
        if (concurrent is { } c) rules.Add(new LimitRule(scope, holder, LimitKind.Concurrency, c, shadow, mode));
        if (rules.Count == 0) r.Error(map, path, "names no limit: give requests_per_minute, tokens_per_minute or concurrent_requests");
        return [.. rules];
    }

    /// <summary>A section's <c>store:</c> (limits, cache): memory or redis, the latter only with a <c>redis:</c> section.</summary>
    private static string? ReadStore(YamlReader r, YamlNode v, string p, RedisSettings? redis)
    {
        var store = r.String(v, p);
        if (store is not null && !Stores.Contains(store)) r.Error(v, p, $"unknown store '{store}'; one of: {string.Join(", ", Stores)}");
        else if (store == "redis" && redis is null) r.Error(v, p, "store 'redis' needs a 'redis:' section (url, password) at the top of the file");
        else return store;
        return null;
    }

    private static StoreFailureMode? ReadFailureMode(YamlReader r, YamlNode v, string p)
    {
        var s = r.String(v, p);
        int at = s is null ? -1 : Array.IndexOf(FailureModes, s);
        if (s is not null && at < 0) r.Error(v, p, $"'{s}' is not a fail mode; one of: open (decide on this replica alone), closed (refuse with 503)");
        return at < 0 ? null : (StoreFailureMode)at;
    }
}
