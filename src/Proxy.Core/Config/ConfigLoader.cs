using Proxy.Limits;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Proxy.Accounting;
using Proxy.Keys;
using Proxy.Providers;
using Proxy.Routing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

/// <summary>
/// Builds a <see cref="GatewayConfig"/> from the YAML config file, reporting every mistake with file, line,
/// path and reason. Adapters of providers that did not change are carried over from the previous snapshot,
/// so a reload keeps warm connection pools.
/// </summary>
/// <param name="time">The clock of the routes' breakers and retry budgets (tests pass a manual one).</param>
/// <param name="data">The data sections from the control plane, appended to the file's (which then must not have them).</param>
public sealed partial class ConfigLoader(IEnumerable<IProviderKind> kinds, TimeProvider? time = null, IConfigData? data = null)
{
    private static readonly string[] TopFields = ["server", "providers", "routes", "route_defaults", "keys", "logs", "metrics", "pricing", "tracing", "limits", "redis", "teams", "cache", "control_plane"];

    /// <summary>The sections a control plane holds instead of the file.</summary>
    public static readonly string[] DataSections = ["providers", "routes", "teams", "keys"];
    private static readonly string[] LogFields = ["enabled", "sink", "directory", "spool_directory", "bodies", "body_cap", "max_records", "max_bytes", "max_age", "max_spool_bytes", "shutdown_deadline", "flush_interval", "upload_timeout", "s3", "azure"];
    private static readonly string[] AzureFields = ["account", "container", "endpoint", "account_key", "sas_token", "managed_identity", "client_id"];
    private static readonly string[] S3Fields = ["bucket", "region", "endpoint", "path_style", "sse", "kms_key_id", "compatibility", "access_key_id", "secret_access_key", "session_token"];
    private static readonly string[] ServerFields = ["urls", "max_body_bytes", "inline_io", "region", "max_concurrent_requests"];
    private static readonly string[] CommonProviderFields = ["type", "base_url", "api_key", "headers", "connect_timeout", "first_byte_timeout", "idle_timeout", "http_proxy", "max_connections"];
    private static readonly string[] KeyFields = ["id", "hash", "routes", "team", "limits", "budget"];

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly FrozenDictionary<string, IProviderKind> _kinds = kinds.ToFrozenDictionary(k => k.Type, StringComparer.Ordinal);

    /// <param name="sections">With a control plane: these data sections instead of its current ones (an admin change
    /// being validated).</param>
    public GatewayConfig Load(string path, GatewayConfig? previous = null, string? sections = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        // Out of file descriptors is the process's trouble, not the file's: it propagates as it is (ConfigWatcher).
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && !Pipeline.ResourceExhaustion.IsOutOfDescriptors(e))
        {
            throw new ConfigException(path, [new ConfigError("(file)", 0, 0, e.Message)]);
        }
        if (data is not null) bytes = Compose(bytes, path, sections ?? data.Sections);
        // A watcher event (or a poll) that changed nothing keeps the snapshot, and its warm connection pools, as they are.
        if (previous is not null && previous.ContentHash == Convert.ToHexStringLower(SHA256.HashData(bytes))) return previous;
        return Parse(bytes, path, SecretResolver.ForFile(path, data), previous);
    }

    /// <summary>
    /// Validates the file with these data sections by every rule a load applies, without making adapters or keeping
    /// anything: an admin change is checked before it is written. Throws <see cref="ConfigException"/>.
    /// </summary>
    public void Validate(string path, string sections)
    {
        var bytes = Compose(File.ReadAllBytes(path), path, sections);
        Parse(bytes, path, SecretResolver.ForFile(path, data), previous: null, attach: false);
    }

    /// <summary>The file's text with the control plane's sections after it; the file itself must not hold them.</summary>
    private static byte[] Compose(byte[] file, string path, string sections)
    {
        var yaml = new YamlStream();
        try
        {
            using var text = new StringReader(Encoding.UTF8.GetString(file));
            yaml.Load(text);
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            // Parse reports it with its position.
            return file;
        }
        if (yaml.Documents.Count > 0 && yaml.Documents[0].RootNode is YamlMappingNode root)
        {
            var errors = new List<ConfigError>();
            foreach (var (k, _) in root.Children)
            {
                if (k is YamlScalarNode { Value: { } name } && DataSections.Contains(name))
                    errors.Add(new ConfigError(name, (int)k.Start.Line, (int)k.Start.Column,
                        $"with control_plane configured, {string.Join(", ", DataSections)} live in Postgres (the admin API, or 'proxy admin apply FILE'); remove this section from the file"));
            }
            if (errors.Count > 0) throw new ConfigException(path, errors);
        }
        var tail = Encoding.UTF8.GetBytes("\n" + sections);
        int end = file.Length;
        while (end > 0 && file[end - 1] is (byte)'\n' or (byte)'\r' or (byte)' ') end--;
        var result = new byte[end + tail.Length];
        file.AsSpan(0, end).CopyTo(result);
        tail.CopyTo(result.AsSpan(end));
        return result;
    }

    public GatewayConfig Parse(byte[] bytes, string path, SecretResolver secrets, GatewayConfig? previous = null, bool attach = true)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var yaml = new YamlStream();
        // Editors on Windows save UTF-8 with a byte order mark; left in, it would be read as part of the first key
        // ("\uFEFFproviders"). Only the text loses it: the hash stays over the file's bytes, as Load compares them.
        ReadOnlySpan<byte> utf8 = bytes;
        if (utf8.StartsWith(Encoding.UTF8.Preamble)) utf8 = utf8[Encoding.UTF8.Preamble.Length..];
        using var text = new StringReader(Encoding.UTF8.GetString(utf8));
        var scanner = new Scanner(text);
        try
        {
            yaml.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            throw new ConfigException(path, [new ConfigError("(syntax)", (int)e.Start.Line, (int)e.Start.Column, e.InnerException?.Message ?? e.Message)]);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 16.3 throws this without a position for some malformed input (an unclosed flow
            // sequence); the scanner still knows where it stopped.
            var at = scanner.CurrentPosition;
            throw new ConfigException(path, [new ConfigError("(syntax)", (int)at.Line, (int)at.Column,
                "malformed YAML here (an unclosed '[' or '{', or a stray character?)")]);
        }

        var r = new YamlReader(secrets) { DataMayBeEmpty = data is not null };
        var root = yaml.Documents.Count == 0 ? null : r.Mapping(yaml.Documents[0].RootNode, "(root)");
        if (root is null)
            throw new ConfigException(path, [new ConfigError("(root)", 1, 1, "the file is empty; it needs at least 'providers', 'routes' and 'keys'")]);

        YamlNode? server = null, providers = null, routes = null, routeDefaults = null, keys = null, logs = null, metrics = null, pricing = null, tracing = null;
        YamlNode? limits = null, redis = null, teams = null, cache = null, controlPlane = null;
        foreach (var (key, value, _) in r.Entries(root, "", TopFields))
        {
            switch (key)
            {
                case "server": server = value; break;
                case "providers": providers = value; break;
                case "routes": routes = value; break;
                case "route_defaults": routeDefaults = value; break;
                case "keys": keys = value; break;
                case "logs": logs = value; break;
                case "metrics": metrics = value; break;
                case "pricing": pricing = value; break;
                case "tracing": tracing = value; break;
                case "limits": limits = value; break;
                case "redis": redis = value; break;
                case "teams": teams = value; break;
                case "cache": cache = value; break;
                case "control_plane": controlPlane = value; break;
            }
        }

        var serverSettings = ReadServer(r, server);
        var providerMap = ReadProviders(r, providers, root);
        var priceTable = ReadPricing(r, pricing);
        var redisSettings = ReadRedis(r, redis);
        var limitsSettings = ReadLimitsSettings(r, limits, redisSettings);
        var teamMap = ReadTeams(r, teams, limitsSettings);
        var cacheSettings = ReadCacheSettings(r, cache, redisSettings);
        var routeMap = ReadRoutes(r, routes, providerMap, DeclaredNames(providers), root, priceTable, ReadRouteDefaults(r, routeDefaults), serverSettings, limitsSettings,
            cacheSettings);
        var keyTable = ReadKeys(r, keys, routeMap, teamMap, limitsSettings);
        var logSettings = ReadLogs(r, logs);
        var metricsSettings = ReadMetrics(r, metrics);
        var tracingSettings = ReadTracing(r, tracing);
        var controlPlaneSettings = ReadControlPlane(r, controlPlane, path);

        if (r.Errors.Count > 0) throw new ConfigException(path, r.Errors);
        if (!attach) return null!;

        AttachAdapters(providerMap.Values, previous);
        AttachRoutingState(routeMap.Values, previous);
        return GatewayConfig.Create(path, serverSettings, providerMap.ToFrozenDictionary(StringComparer.Ordinal),
            routeMap.ToFrozenDictionary(StringComparer.Ordinal), keyTable, logSettings, hash, metricsSettings, priceTable, tracingSettings,
            limitsSettings, redisSettings, cacheSettings, controlPlaneSettings);
    }

    private static ServerSettings ReadServer(YamlReader r, YamlNode? node)
    {
        var map = r.Mapping(node, "server");
        if (map is null) return new ServerSettings();
        var defaults = new ServerSettings();
        string? urls = null, region = null;
        long maxBody = defaults.MaxBodyBytes;
        bool inlineIo = defaults.InlineIo;
        int? maxConcurrent = defaults.MaxConcurrentRequests;
        foreach (var (key, value, path) in r.Entries(map, "server", ServerFields))
        {
            switch (key)
            {
                case "urls": urls = r.String(value, path); break;
                case "max_body_bytes": maxBody = r.Size(value, path) ?? maxBody; break;
                case "inline_io": inlineIo = r.Bool(value, path) ?? inlineIo; break;
                case "region": region = r.String(value, path) is { Length: > 0 } reg ? reg : null; break;
                case "max_concurrent_requests": maxConcurrent = ReadConcurrency(r, value, path); break;
            }
        }
        return new ServerSettings { Urls = urls, MaxBodyBytes = maxBody, InlineIo = inlineIo, Region = region, MaxConcurrentRequests = maxConcurrent };
    }

    /// <summary>"auto" (null: derived from the open-file limit), "unlimited" or 0 (no cap), or a count of requests.</summary>
    private static int? ReadConcurrency(YamlReader r, YamlNode value, string path)
    {
        var s = r.String(value, path);
        if (s is null or "auto") return null;
        if (s == "unlimited") return 0;
        if (int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n <= MaxConcurrencyCap) return n;
        r.Error(value, path, $"'{s}' is not a number of requests (0 to {MaxConcurrencyCap}), 'auto' (from the open-file limit) or 'unlimited'");
        return null;
    }

    /// <summary>Far above what one process can hold open (two descriptors per request), so a typo of extra digits is caught.</summary>
    private const int MaxConcurrencyCap = 10_000_000;

    private static LogSettings ReadLogs(YamlReader r, YamlNode? node)
    {
        var d = new LogSettings();
        var map = r.Mapping(node, "logs");
        if (map is null) return d;
        bool enabled = d.Enabled;
        string sink = d.Sink, directory = d.Directory;
        string? spool = null;
        var bodies = d.Bodies;
        int cap = d.BodyCapBytes, maxRecords = d.MaxRecords;
        long maxBytes = d.MaxBytes, maxSpool = d.MaxSpoolBytes;
        var maxAge = d.MaxAge;
        var shutdownDeadline = d.ShutdownDeadline;
        var flushInterval = d.FlushInterval;
        var uploadTimeout = d.UploadTimeout;
        S3LogSettings? s3 = null;
        AzureLogSettings? azure = null;
        foreach (var (key, value, path) in r.Entries(map, "logs", LogFields))
        {
            switch (key)
            {
                case "enabled": enabled = r.Bool(value, path) ?? enabled; break;
                case "sink":
                    var s = r.String(value, path);
                    if (s is "local" or "s3" or "azure") sink = s;
                    else if (s is not null) r.Error(value, path, $"unknown sink '{s}'; one of: local, s3, azure");
                    break;
                case "directory": directory = r.String(value, path) ?? directory; break;
                case "spool_directory": spool = r.String(value, path); break;
                case "bodies":
                    var b = r.String(value, path);
                    if (b == "metadata") bodies = BodyPolicy.Metadata;
                    else if (b == "capped") bodies = BodyPolicy.Capped;
                    else if (b == "full") bodies = BodyPolicy.Full;
                    else if (b is not null) r.Error(value, path, $"'{b}' is not a body policy; one of: metadata, capped, full");
                    break;
                case "body_cap": cap = (int)Math.Min(r.Size(value, path) ?? cap, int.MaxValue); break;
                case "max_records": maxRecords = (int)(r.Number(value, path, 1, 1_000_000) ?? maxRecords); break;
                case "max_bytes": maxBytes = r.Size(value, path) ?? maxBytes; break;
                case "max_age": maxAge = Positive(r, value, path) ?? maxAge; break;
                case "max_spool_bytes": maxSpool = r.Size(value, path) ?? maxSpool; break;
                case "shutdown_deadline": shutdownDeadline = r.Duration(value, path) ?? shutdownDeadline; break;
                case "flush_interval": flushInterval = Positive(r, value, path) ?? flushInterval; break;
                case "upload_timeout": uploadTimeout = Positive(r, value, path) ?? uploadTimeout; break;
                case "s3": s3 = ReadS3(r, value, path); break;
                case "azure": azure = ReadAzure(r, value, path); break;
            }
        }
        if (sink == "s3" && s3 is null) r.Error(map, "logs.s3", "required when sink is s3 (at least 'bucket')");
        if (sink == "azure" && azure is null) r.Error(map, "logs.azure", "required when sink is azure (account, container and one way to authenticate)");
        return new LogSettings
        {
            Enabled = enabled, Sink = sink, Directory = directory, SpoolDirectory = spool, Bodies = bodies, BodyCapBytes = cap,
            MaxRecords = maxRecords, MaxBytes = maxBytes, MaxAge = maxAge, MaxSpoolBytes = maxSpool, ShutdownDeadline = shutdownDeadline,
            FlushInterval = flushInterval, UploadTimeout = uploadTimeout, S3 = s3, Azure = azure,
        };
    }

    /// <summary>Every provider name in the file, valid or not, so a route to an invalid one is not reported twice.</summary>
    private static HashSet<string> DeclaredNames(YamlNode? providers) =>
        providers is YamlMappingNode map
            ? map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToHashSet(StringComparer.Ordinal)
            : [];

    private static AzureLogSettings? ReadAzure(YamlReader r, YamlNode node, string path)
    {
        var map = r.Mapping(node, path);
        if (map is null) return null;
        var v = new Dictionary<string, string>(StringComparer.Ordinal);
        bool managedIdentity = false;
        foreach (var (key, value, p) in r.Entries(map, path, AzureFields))
        {
            if (key == "managed_identity") managedIdentity = r.Bool(value, p) ?? false;
            else if (r.String(value, p) is { } s) v[key] = s;
        }
        foreach (var required in (ReadOnlySpan<string>)["account", "container"])
        {
            if (!v.ContainsKey(required)) r.Error(map, path + "." + required, "missing");
        }
        int modes = (v.ContainsKey("account_key") ? 1 : 0) + (v.ContainsKey("sas_token") ? 1 : 0) + (managedIdentity ? 1 : 0);
        if (modes != 1) r.Error(map, path, "give exactly one of account_key, sas_token or managed_identity: true");
        if (!v.TryGetValue("account", out var account) || !v.TryGetValue("container", out var container)) return null;
        return new AzureLogSettings
        {
            Account = account, Container = container, Endpoint = v.GetValueOrDefault("endpoint"),
            AccountKey = v.GetValueOrDefault("account_key"), SasToken = v.GetValueOrDefault("sas_token"),
            ManagedIdentity = managedIdentity, ClientId = v.GetValueOrDefault("client_id"),
        };
    }

    private static S3LogSettings? ReadS3(YamlReader r, YamlNode node, string path)
    {
        var map = r.Mapping(node, path);
        if (map is null) return null;
        var v = new Dictionary<string, string>(StringComparer.Ordinal);
        bool pathStyle = false, compatibility = false;
        foreach (var (key, value, p) in r.Entries(map, path, S3Fields))
        {
            if (key == "path_style") pathStyle = r.Bool(value, p) ?? false;
            else if (key == "compatibility") compatibility = r.Bool(value, p) ?? false;
            else if (r.String(value, p) is { } s) v[key] = s;
        }
        if (!v.TryGetValue("bucket", out var bucket))
        {
            r.Error(map, path + ".bucket", "missing: the bucket the log objects go to");
            return null;
        }
        var sse = v.GetValueOrDefault("sse", "none");
        if (sse is not ("none" or "AES256" or "aws:kms")) r.Error(map, path + ".sse", $"'{sse}' is not one of: none, AES256, aws:kms");
        if (sse == "aws:kms" && !v.ContainsKey("kms_key_id")) r.Error(map, path + ".kms_key_id", "required with sse: aws:kms");
        if (v.ContainsKey("access_key_id") != v.ContainsKey("secret_access_key"))
            r.Error(map, path, "access_key_id and secret_access_key go together (or leave both out for the SDK's credential chain)");
        return new S3LogSettings
        {
            Bucket = bucket, Region = v.GetValueOrDefault("region"), Endpoint = v.GetValueOrDefault("endpoint"), PathStyle = pathStyle,
            Sse = sse, KmsKeyId = v.GetValueOrDefault("kms_key_id"), Compatibility = compatibility,
            AccessKeyId = v.GetValueOrDefault("access_key_id"), SecretAccessKey = v.GetValueOrDefault("secret_access_key"),
            SessionToken = v.GetValueOrDefault("session_token"),
        };
    }

    private Dictionary<string, ProviderSettings> ReadProviders(YamlReader r, YamlNode? node, YamlNode root)
    {
        var result = new Dictionary<string, ProviderSettings>(StringComparer.Ordinal);
        var map = r.Mapping(node, "providers");
        if (map is null || map.Children.Count == 0)
        {
            // A control plane starts empty and is filled through its API: no providers yet is a state, not a mistake.
            if (!r.DataMayBeEmpty) r.Error(node ?? root, "providers", "at least one provider is required (for a first run: a provider with 'type: mock')");
            return result;
        }
        foreach (var (name, value, path) in r.Entries(map, "providers", null))
        {
            var settings = ReadProvider(r, name, value, path);
            if (settings is not null) result[name] = settings;
        }
        return result;
    }

    private ProviderSettings? ReadProvider(YamlReader r, string name, YamlNode node, string path)
    {
        var map = r.Mapping(node, path);
        if (map is null) return null;

        // The type decides which fields are allowed, so read it first.
        IProviderKind? kind = null;
        var typeNode = map.Children.FirstOrDefault(e => e.Key is YamlScalarNode { Value: "type" }).Value;
        if (typeNode is null) r.Error(map, path + ".type", $"missing; one of: {string.Join(", ", _kinds.Keys.Order())}");
        else
        {
            var type = r.String(typeNode, path + ".type");
            if (type is not null && !_kinds.TryGetValue(type, out kind))
                r.Error(typeNode, path + ".type", $"unknown provider type '{type}'; one of: {string.Join(", ", _kinds.Keys.Order())}");
        }
        if (kind is null) return null;

        var allowed = CommonProviderFields.Concat(kind.ExtraFields).ToArray();
        Uri? baseUrl = kind.DefaultBaseUrl, proxy = null;
        string? apiKey = null;
        var headers = new List<KeyValuePair<string, string>>();
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        var extraNodes = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var defaults = new ProviderSettings { Name = name, Type = kind.Type };
        TimeSpan connect = defaults.ConnectTimeout, firstByte = defaults.FirstByteTimeout, idle = defaults.IdleTimeout;
        bool hasBaseUrl = false;
        int maxConnections = 0;

        foreach (var (key, value, p) in r.Entries(map, path, allowed))
        {
            switch (key)
            {
                case "type": break;
                case "base_url": baseUrl = r.Url(value, p); hasBaseUrl = true; break;
                case "api_key": apiKey = r.String(value, p); break;
                case "http_proxy": proxy = r.Url(value, p); break;
                case "connect_timeout": connect = r.Duration(value, p) ?? connect; break;
                case "first_byte_timeout": firstByte = r.Duration(value, p) ?? firstByte; break;
                case "idle_timeout": idle = r.Duration(value, p) ?? idle; break;
                case "max_connections": maxConnections = (int)(r.Number(value, p, 0, 100_000) ?? 0); break;
                case "headers":
                    if (r.Mapping(value, p) is { } hm)
                    {
                        foreach (var (hk, hv, hp) in r.Entries(hm, p, null))
                        {
                            if (r.String(hv, hp) is { } v) headers.Add(new(hk, v));
                        }
                    }
                    break;
                default:
                    if (r.String(value, p) is { } s)
                    {
                        extra[key] = s;
                        extraNodes[key] = value;
                    }
                    break;
            }
        }
        if (kind.UsesNetwork && baseUrl is null && !hasBaseUrl)
            r.Error(map, path + ".base_url", $"required for type '{kind.Type}'");

        var settings = new ProviderSettings
        {
            Name = name,
            Type = kind.Type,
            BaseUrl = baseUrl,
            ApiKey = apiKey,
            Headers = headers,
            ConnectTimeout = connect,
            FirstByteTimeout = firstByte,
            IdleTimeout = idle,
            HttpProxy = proxy,
            MaxConnections = maxConnections,
            Extra = extra,
            Fingerprint = Fingerprint(kind.Type, baseUrl, apiKey, headers, connect, firstByte, idle, proxy, extra) + "|" + maxConnections,
        };
        kind.Validate(settings, (field, reason) => r.Error(extraNodes.GetValueOrDefault(field) ?? map, path + "." + field, reason));
        return settings;
    }

    private static KeyTable ReadKeys(YamlReader r, YamlNode? node, Dictionary<string, Route> routes, Dictionary<string, Team> teams, LimitsSettings limits)
    {
        var byHash = new Dictionary<KeyHash, VirtualKey>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var list = r.Sequence(node, "keys");
        if (list is null) return new KeyTable(byHash.ToFrozenDictionary());
        for (int i = 0; i < list.Children.Count; i++)
        {
            var path = $"keys[{i}]";
            var m = r.Mapping(list.Children[i], path);
            if (m is null) continue;
            string? id = null;
            KeyHash? hash = null;
            List<string>? allowed = null;
            Team? team = null;
            YamlNode? limitsNode = null, budgetNode = null;
            string limitsPath = path + ".limits", budgetPath = path + ".budget";
            foreach (var (key, v, p) in r.Entries(m, path, KeyFields))
            {
                switch (key)
                {
                    case "id":
                        id = r.String(v, p);
                        if (id is not null && !ids.Add(id)) r.Error(v, p, $"duplicate key id '{id}'");
                        break;
                    case "hash":
                        var text = r.String(v, p);
                        if (text is null) break;
                        if (!KeyHash.TryParse(text, out var h))
                            r.Error(v, p, text.StartsWith(KeyGenerator.KeyPrefix, StringComparison.Ordinal)
                                ? "this is a key, not its hash: never put a key in the config; run 'proxy keys new' and paste the hash line it prints"
                                : "expected 'sha256:' followed by 64 hex digits (as printed by 'proxy keys new')");
                        else if (byHash.ContainsKey(h)) r.Error(v, p, "duplicate hash: two entries share one key");
                        else hash = h;
                        break;
                    case "routes":
                        if (r.Sequence(v, p) is not { } seq) break;
                        allowed = [];
                        for (int j = 0; j < seq.Children.Count; j++)
                        {
                            var rp = $"{p}[{j}]";
                            if (r.String(seq.Children[j], rp) is not { } name) continue;
                            if (!routes.ContainsKey(name)) r.Error(seq.Children[j], rp, $"unknown route '{name}'; defined: {string.Join(", ", routes.Keys.Order())}");
                            allowed.Add(name);
                        }
                        break;
                    case "team":
                        if (r.String(v, p) is not { } teamName) break;
                        if (!teams.TryGetValue(teamName, out team))
                            r.Error(v, p, teams.Count == 0
                                ? $"unknown team '{teamName}': declare it under 'teams:'"
                                : $"unknown team '{teamName}'; declared: {string.Join(", ", teams.Keys.Order())}");
                        break;
                    case "limits": limitsNode = v; limitsPath = p; break;
                    case "budget": budgetNode = v; budgetPath = p; break;
                }
            }
            if (id is null) r.Error(m, path + ".id", "missing: a name for this key (it appears in logs and metrics instead of the key)");
            if (hash is null && !m.Children.Any(e => e.Key is YamlScalarNode { Value: "hash" })) r.Error(m, path + ".hash", "missing");
            if (id is not null && hash is { } kh)
            {
                var budget = budgetNode is null ? null : ReadBudget(r, budgetNode, budgetPath, Budgets.BudgetScope.Key, id);
                byHash[kh] = new VirtualKey
                {
                    Id = id, AllowedRoutes = allowed?.ToFrozenSet(StringComparer.Ordinal), Team = team,
                    Limits = limitsNode is null ? [] : ReadLimitRules(r, limitsNode, limitsPath, LimitScope.Key, id, limits),
                    Budgets = [.. new[] { budget, team?.Budget }.OfType<Budgets.BudgetRule>()],
                };
            }
        }
        return new KeyTable(byHash.ToFrozenDictionary());
    }

    private void AttachAdapters(IEnumerable<ProviderSettings> providers, GatewayConfig? previous)
    {
        foreach (var p in providers)
        {
            if (previous is not null && previous.Providers.TryGetValue(p.Name, out var old) && old.Fingerprint == p.Fingerprint)
                p.Adapter = old.Adapter;
            else
                p.Adapter = _kinds[p.Type].CreateAdapter(p);
        }
    }

    private static string Fingerprint(string type, Uri? baseUrl, string? apiKey, List<KeyValuePair<string, string>> headers,
        TimeSpan connect, TimeSpan firstByte, TimeSpan idle, Uri? proxy, Dictionary<string, string> extra)
    {
        var sb = new StringBuilder().Append(type).Append('|').Append(baseUrl).Append('|').Append(apiKey).Append('|')
            .Append(connect.Ticks).Append('|').Append(firstByte.Ticks).Append('|').Append(idle.Ticks).Append('|').Append(proxy);
        foreach (var (k, v) in headers) sb.Append('|').Append(k).Append('=').Append(v);
        foreach (var (k, v) in extra.OrderBy(e => e.Key, StringComparer.Ordinal)) sb.Append('|').Append(k).Append('=').Append(v);
        // Hashed so the secret it includes never sits in a readable string longer than this method.
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
