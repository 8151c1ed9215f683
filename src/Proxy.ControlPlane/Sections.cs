using System.Text;
using System.Text.Json.Nodes;

namespace Proxy.ControlPlane;

/// <summary>
/// The control plane's objects as the config file's four data sections, in JSON flow style (YAML reads JSON), sorted by
/// name so the same objects always give the same text (the loader compares hashes to skip a reload that changes nothing).
/// </summary>
public static class Sections
{
    public static string Compose(IEnumerable<ConfigObject> objects)
    {
        var byKind = objects.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.OrderBy(o => o.Name, StringComparer.Ordinal).ToList());
        var sb = new StringBuilder();
        foreach (var kind in new[] { ObjectKind.Provider, ObjectKind.Route, ObjectKind.Team })
        {
            var map = new JsonObject();
            foreach (var o in byKind.GetValueOrDefault(kind) ?? []) map[o.Name] = o.Body.DeepClone();
            sb.Append(ConfigObject.SectionOf(kind)).Append(": ").Append(map.ToJsonString()).Append('\n');
        }
        var keys = new JsonArray();
        foreach (var o in KeysInOrder(byKind.GetValueOrDefault(ObjectKind.Key) ?? []))
        {
            var entry = new JsonObject { ["id"] = o.Name };
            foreach (var (k, v) in o.Body) if (k != "id") entry[k] = v?.DeepClone();
            keys.Add((JsonNode)entry);
        }
        sb.Append("keys: ").Append(keys.ToJsonString()).Append('\n');
        return sb.ToString();
    }

    /// <summary>The order keys are written in, so an error at <c>keys[i]</c> can be named by the key's id.</summary>
    public static List<ConfigObject> KeysInOrder(IEnumerable<ConfigObject> objects) =>
        objects.Where(o => o.Kind == ObjectKind.Key).OrderBy(o => o.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Null when the configuration these objects make with the config file at <paramref name="configPath"/> passes every
    /// rule the file's own load applies; else every mistake (see <see cref="Describe"/>) and the first one's path. The one
    /// check behind every admin API write and <c>proxy admin apply</c>.
    /// </summary>
    public static string? Validate(Config.ConfigLoader loader, string configPath, IReadOnlyList<ConfigObject> objects, out string? firstPath)
    {
        firstPath = null;
        try
        {
            loader.Validate(configPath, Compose(objects));
            return null;
        }
        catch (Config.ConfigException e)
        {
            (var message, firstPath) = Describe(e, objects);
            return message;
        }
    }

    /// <summary>
    /// A validation failure of these objects as the admin API and the CLI say it: every mistake as <c>path: reason</c>,
    /// keys named by id (<c>keys.app-1.team</c>, not <c>keys[3].team</c>), and the first mistake's path.
    /// </summary>
    public static (string Message, string? FirstPath) Describe(Config.ConfigException e, IReadOnlyList<ConfigObject> objects)
    {
        if (e.Errors.Count == 0) return (e.Message, null);
        var keys = KeysInOrder(objects);
        var named = e.Errors.Select(err => (Path: NameKeys(err.Path, keys), err.Reason)).ToList();
        return (string.Join("; ", named.Select(n => n.Path + ": " + n.Reason)), named[0].Path);
    }

    private static string NameKeys(string path, List<ConfigObject> keys)
    {
        if (!path.StartsWith("keys[", StringComparison.Ordinal)) return path;
        int close = path.IndexOf(']');
        if (close < 0 || !int.TryParse(path.AsSpan(5, close - 5), out int i) || i >= keys.Count) return path;
        return "keys." + keys[i].Name + path[(close + 1)..];
    }
}
