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
}
