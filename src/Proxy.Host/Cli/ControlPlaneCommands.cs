using System.Text.Json.Nodes;
using Proxy.Config;
using Proxy.ControlPlane;

namespace Proxy.Host.Cli;

/// <summary>
/// <c>proxy db migrate</c>, <c>proxy admin export</c> and <c>proxy admin apply FILE</c>: the control plane from the command
/// line, against the database of the config file's <c>control_plane:</c> section. <c>apply</c> is declarative and
/// idempotent: it prints the diff (credentials masked), validates the result by the config file's rules, and writes it
/// in one transaction (audited as <c>cli:USER@HOST</c>); the same file applied to every region's database gives every
/// region the same providers, routes, teams and keys.
/// </summary>
internal static class ControlPlaneCommands
{
    public const string Usage = """
          proxy db migrate --config FILE         apply the control plane's schema migrations (also done at start)
          proxy admin export --config FILE       print the control plane's providers, routes, teams and keys as a file
          proxy admin apply OBJECTS --config FILE [--dry-run]
                                                make the control plane hold exactly what OBJECTS declares (prints the diff)
        """;

    public static int Db(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] != "migrate" || ConfigPath(args) is not { } config) return UsageError(error);
        return Run(config, error, async (store, _, _) =>
        {
            var applied = await Migrator.MigrateAsync(store.DataSource);
            output.WriteLine(applied.Count == 0 ? "control plane schema is current" : "applied: " + string.Join(", ", applied));
            return 0;
        });
    }

    public static int Admin(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || ConfigPath(args) is not { } config) return UsageError(error);
        switch (args[0])
        {
            case "export":
                return Run(config, error, async (store, _, _) =>
                {
                    var snapshot = await store.LoadAsync();
                    output.Write(DeclarativeFile.Write(snapshot.Objects));
                    return 0;
                });
            case "apply" when args.Length >= 2 && !args[1].StartsWith("--", StringComparison.Ordinal):
                bool dryRun = args.Contains("--dry-run");
                return Run(config, error, (store, data, loader) => ApplyAsync(store, data, loader, config, args[1], dryRun, output, error));
            default:
                return UsageError(error);
        }
    }

    private static async Task<int> ApplyAsync(ControlPlaneStore store, ControlPlaneData data, ConfigLoader loader, string config, string file, bool dryRun,
        TextWriter output, TextWriter error)
    {
        List<ConfigObject> desired;
        try
        {
            desired = DeclarativeFile.Read(file);
        }
        catch (ConfigException e)
        {
            error.WriteLine("proxy: " + e.Message);
            return 2;
        }
        var current = (await store.LoadAsync()).Objects.ToDictionary(o => (o.Kind, o.Name));
        var changes = new List<Change>();
        foreach (var o in desired)
        {
            current.TryGetValue((o.Kind, o.Name), out var before);
            var body = (JsonObject)o.Body.DeepClone();
            if (o.Kind == ObjectKind.Provider && ProviderSecrets.Seal(body, before?.Body, data.Sealer, o.Name) is { } sealError)
            {
                error.WriteLine($"proxy: {file}: providers.{o.Name}.{sealError}");
                return 2;
            }
            if (before is not null && JsonNode.DeepEquals(before.Body, body)) continue;
            changes.Add(new Change(o.Kind, o.Name, body, before?.Display));
            Print(output, before is null ? "+" : "~", o.Kind, o.Name, before?.Body, body);
        }
        var declared = desired.Select(o => (o.Kind, o.Name)).ToHashSet();
        foreach (var o in current.Values.Where(o => !declared.Contains((o.Kind, o.Name))).OrderBy(o => o.Kind).ThenBy(o => o.Name, StringComparer.Ordinal))
        {
            changes.Add(new Change(o.Kind, o.Name, null));
            Print(output, "-", o.Kind, o.Name, o.Body, null);
        }
        if (changes.Count == 0)
        {
            output.WriteLine("no changes: the control plane already holds what the file declares");
            return 0;
        }
        Func<IReadOnlyList<ConfigObject>, string?> validate = objects => Sections.Validate(loader, config, objects, out _);
        if (dryRun)
        {
            var after = current.Values.ToDictionary(o => (o.Kind, o.Name));
            foreach (var c in changes)
                if (c.Body is null) after.Remove((c.Kind, c.Name));
                else after[(c.Kind, c.Name)] = new ConfigObject(c.Kind, c.Name, c.Body);
            if (validate(after.Values.ToList()) is { } invalid)
            {
                error.WriteLine($"proxy: {file}: the result would be invalid: {invalid}");
                return 2;
            }
            output.WriteLine($"{changes.Count} change(s) valid; not applied (--dry-run)");
            return 0;
        }
        var actor = $"cli:{Environment.UserName}@{Environment.MachineName}";
        var (version, failure, written) = await store.ApplyAsync(actor, changes, validate);
        if (failure is not null)
        {
            error.WriteLine($"proxy: {file}: nothing applied, the result would be invalid: {failure}");
            return 2;
        }
        output.WriteLine($"applied {written} change(s); control plane version {version}");
        return 0;
    }

    /// <summary>One line per object, then its fields before and after (credentials masked; a new key shows its hash only).</summary>
    private static void Print(TextWriter output, string sign, ObjectKind kind, string name, JsonObject? before, JsonObject? after)
    {
        output.WriteLine($"{sign} {ConfigObject.SectionOf(kind)}.{name}");
        var b = (JsonObject?)ProviderSecrets.MaskAll(before) ?? [];
        var a = (JsonObject?)ProviderSecrets.MaskAll(after) ?? [];
        foreach (var field in b.Select(e => e.Key).Union(a.Select(e => e.Key)).Order(StringComparer.Ordinal))
        {
            var was = b[field];
            var now = a[field];
            if (JsonNode.DeepEquals(was, now) && sign == "~") continue;
            if (sign == "~") output.WriteLine($"    {field}: {was?.ToJsonString() ?? "(none)"} -> {now?.ToJsonString() ?? "(none)"}");
            else output.WriteLine($"    {field}: {(now ?? was)?.ToJsonString()}");
        }
    }

    private static int Run(string config, TextWriter error, Func<ControlPlaneStore, ControlPlaneData, ConfigLoader, Task<int>> work)
    {
        try
        {
            var settings = ConfigLoader.ReadControlPlaneSection(config);
            if (settings is null)
            {
                error.WriteLine($"proxy: {config} has no control_plane: section (the database to use)");
                return 2;
            }
            using var db = ControlPlaneDatabase.Create(settings.ConnectionString, "llm-gateway-cli");
            var store = new ControlPlaneStore(db);
            var data = new ControlPlaneData(new SecretSealer(settings.MasterKey));
            var loader = new ConfigLoader(GatewayApp.ProviderKinds, data: data);
            return work(store, data, loader).GetAwaiter().GetResult();
        }
        catch (ConfigException e)
        {
            error.WriteLine("proxy: " + e.Message);
            return 2;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            error.WriteLine($"proxy: the control plane's database did not answer: {e.Message}");
            return 1;
        }
    }

    private static string? ConfigPath(string[] args)
    {
        for (int i = 0; i < args.Length - 1; i++)
            if (args[i] is "--config" or "-c") return args[i + 1];
        return Environment.GetEnvironmentVariable("PROXY_CONFIG") is { Length: > 0 } env ? env : null;
    }

    private static int UsageError(TextWriter error)
    {
        error.WriteLine("usage:\n" + Usage);
        return 2;
    }
}
