using System.Text;
using Proxy.Keys;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

public sealed partial class ConfigLoader
{
    private static readonly string[] ControlPlaneFields = ["url", "master_key", "snapshot_file", "poll_interval", "admin_keys", "admin_api", "admin_listen"];
    private static readonly string[] AdminKeyFields = ["id", "hash"];

    /// <summary>
    /// The file's <c>control_plane:</c> section alone, read before anything else: the gateway needs the database and
    /// the master key before it can compose the rest. Null when the file has none. Throws <see cref="ConfigException"/>.
    /// </summary>
    public static ControlPlaneSettings? ReadControlPlaneSection(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, [new ConfigError("(file)", 0, 0, e.Message)]);
        }
        var yaml = new YamlStream();
        try
        {
            using var text = new StringReader(Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF'));
            yaml.Load(text);
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            return null; // the full load reports the syntax error with its position
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root) return null;
        var node = root.Children.FirstOrDefault(e => e.Key is YamlScalarNode { Value: "control_plane" }).Value;
        if (node is null) return null;
        var r = new YamlReader(SecretResolver.ForFile(path));
        var settings = ReadControlPlane(r, node, path);
        if (r.Errors.Count > 0) throw new ConfigException(path, r.Errors);
        return settings;
    }

    private static ControlPlaneSettings? ReadControlPlane(YamlReader r, YamlNode? node, string configPath)
    {
        var map = r.Mapping(node, "control_plane");
        if (map is null) return null;
        string? url = null, snapshot = null;
        byte[]? masterKey = null;
        TimeSpan? poll = null;
        bool adminApi = true;
        Uri? adminListen = null;
        var adminKeys = new List<(string, KeyHash)>();
        foreach (var (key, v, p) in r.Entries(map, "control_plane", ControlPlaneFields))
        {
            switch (key)
            {
                case "url": url = r.String(v, p); break;
                case "master_key":
                    if (v is YamlScalarNode { Value: { } raw } && !raw.Contains("${", StringComparison.Ordinal))
                    {
                        r.Error(v, p, "give the master key by reference (${NAME} or ${file:PATH}), never in the file itself");
                        break;
                    }
                    if (r.String(v, p) is not { } text) break;
                    try
                    {
                        masterKey = Convert.FromBase64String(text.Trim());
                    }
                    catch (FormatException)
                    {
                        masterKey = null;
                    }
                    if (masterKey is not { Length: 32 })
                    {
                        r.Error(v, p, "expected base64 of 32 random bytes (an AES-256 key), e.g. from 'openssl rand -base64 32'");
                        masterKey = null;
                    }
                    break;
                case "snapshot_file": snapshot = r.String(v, p); break;
                case "poll_interval":
                    poll = r.Duration(v, p);
                    if (poll is { } d && (d < TimeSpan.FromMilliseconds(100) || d > TimeSpan.FromMinutes(10)))
                        r.Error(v, p, "between 100ms and 10m");
                    break;
                case "admin_api": adminApi = r.Bool(v, p) ?? true; break;
                case "admin_listen": adminListen = r.Url(v, p); break;
                case "admin_keys":
                    if (r.Sequence(v, p) is not { } seq) break;
                    for (int i = 0; i < seq.Children.Count; i++)
                    {
                        var kp = $"{p}[{i}]";
                        if (r.Mapping(seq.Children[i], kp) is not { } km) continue;
                        string? id = null;
                        KeyHash? hash = null;
                        foreach (var (k2, v2, p2) in r.Entries(km, kp, AdminKeyFields))
                        {
                            if (k2 == "id") id = r.String(v2, p2);
                            else if (r.String(v2, p2) is { } h)
                            {
                                if (KeyHash.TryParse(h, out var parsed)) hash = parsed;
                                else r.Error(v2, p2, "expected 'sha256:' followed by 64 hex digits (as printed by 'proxy keys new')");
                            }
                        }
                        if (id is null) r.Error(km, kp + ".id", "missing: a name for this admin key (the audit log shows it)");
                        if (hash is null && !km.Children.Any(e => e.Key is YamlScalarNode { Value: "hash" })) r.Error(km, kp + ".hash", "missing");
                        if (id is not null && hash is { } ok) adminKeys.Add((id, ok));
                    }
                    break;
            }
        }
        if (url is null)
        {
            r.Error(map, "control_plane.url", "missing: the Postgres to use (postgres://user:password@host:5432/db or an Npgsql connection string)");
            return null;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".";
        return new ControlPlaneSettings
        {
            ConnectionString = url,
            MasterKey = masterKey,
            SnapshotFile = snapshot is null ? Path.Combine(dir, Path.GetFileName(configPath) + ".control-plane-snapshot.json")
                : Path.IsPathRooted(snapshot) ? snapshot : Path.Combine(dir, snapshot),
            PollInterval = poll ?? TimeSpan.FromSeconds(5),
            AdminKeys = adminKeys,
            AdminApi = adminApi,
            AdminListen = adminListen,
        };
    }
}
