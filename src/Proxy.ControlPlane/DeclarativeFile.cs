using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Proxy.Config;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Proxy.ControlPlane;

/// <summary>
/// The control plane as a file, for <c>proxy admin apply</c> and <c>proxy admin export</c>: the config file's four data
/// sections (providers, routes, teams, keys) and nothing else. Keys travel by hash, so one key works in every region
/// the file is applied to; credentials travel sealed (the regions share the master key) or as references.
/// </summary>
public static partial class DeclarativeFile
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex Number();

    /// <summary>The objects a file declares; throws <see cref="ConfigException"/> with file, line and reason.</summary>
    public static List<ConfigObject> Read(string path)
    {
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            var at = e is YamlException y ? y.Start : default;
            throw new ConfigException(path, [new ConfigError("(syntax)", (int)at.Line, (int)at.Column, e.InnerException?.Message ?? e.Message)]);
        }
        var errors = new List<ConfigError>();
        var objects = new List<ConfigObject>();
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException(path, [new ConfigError("(root)", 1, 1, "expected providers:, routes:, teams: and keys: sections")]);
        foreach (var (k, v) in root.Children)
        {
            var section = (k as YamlScalarNode)?.Value ?? "";
            switch (section)
            {
                case "providers" or "routes" or "teams":
                    var kind = section == "providers" ? ObjectKind.Provider : section == "routes" ? ObjectKind.Route : ObjectKind.Team;
                    if (v is YamlMappingNode map)
                    {
                        foreach (var (nk, nv) in map.Children)
                        {
                            var name = (nk as YamlScalarNode)?.Value ?? "";
                            if (ToJson(nv) is JsonObject body) objects.Add(new ConfigObject(kind, name, body));
                            else errors.Add(new ConfigError($"{section}.{name}", (int)nv.Start.Line, (int)nv.Start.Column, "expected a mapping"));
                        }
                    }
                    else if (!IsEmpty(v)) errors.Add(new ConfigError(section, (int)v.Start.Line, (int)v.Start.Column, "expected a mapping of names"));
                    break;
                case "keys":
                    if (v is YamlSequenceNode list)
                    {
                        for (int i = 0; i < list.Children.Count; i++)
                        {
                            if (ToJson(list.Children[i]) is JsonObject body && (string?)(body["id"] as JsonValue) is { Length: > 0 } id)
                            {
                                body.Remove("id");
                                objects.Add(new ConfigObject(ObjectKind.Key, id, body));
                            }
                            else errors.Add(new ConfigError($"keys[{i}]", (int)list.Children[i].Start.Line, (int)list.Children[i].Start.Column, "expected a mapping with an id and a hash"));
                        }
                    }
                    else if (!IsEmpty(v)) errors.Add(new ConfigError("keys", (int)v.Start.Line, (int)v.Start.Column, "expected a list of keys"));
                    break;
                default:
                    errors.Add(new ConfigError(section, (int)k.Start.Line, (int)k.Start.Column,
                        $"unknown section '{section}': a control-plane file holds providers, routes, teams and keys (the rest stays in each replica's config file)"));
                    break;
            }
        }
        foreach (var dup in objects.GroupBy(o => (o.Kind, o.Name)).Where(g => g.Count() > 1))
            errors.Add(new ConfigError($"{ConfigObject.SectionOf(dup.Key.Kind)}.{dup.Key.Name}", 0, 0, "declared twice"));
        if (errors.Count > 0) throw new ConfigException(path, errors);
        return objects;
    }

    private static bool IsEmpty(YamlNode node) => node is YamlScalarNode { Value: null or "" or "~" or "null" };

    /// <summary>YAML as JSON: plain scalars that read as numbers, booleans or null become those; quoted ones stay strings.</summary>
    private static JsonNode? ToJson(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode m:
                var o = new JsonObject();
                foreach (var (k, v) in m.Children) o[(k as YamlScalarNode)?.Value ?? ""] = ToJson(v);
                return o;
            case YamlSequenceNode s:
                var a = new JsonArray();
                foreach (var v in s.Children) a.Add(ToJson(v));
                return a;
            case YamlScalarNode { Value: var text, Style: var style }:
                if (text is null) return null;
                if (style is ScalarStyle.Plain)
                {
                    if (text is "null" or "~" or "") return null;
                    if (text is "true" or "false") return JsonValue.Create(text == "true");
                    if (Number().IsMatch(text))
                        return text.Contains('.') || text.Contains('e') || text.Contains('E')
                            ? JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture))
                            : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? JsonValue.Create(l) : JsonValue.Create(text);
                }
                return JsonValue.Create(text);
            default:
                return null;
        }
    }

    /// <summary>The objects as a file <see cref="Read"/> reads back to the same objects (YAML; strings in JSON quotes).</summary>
    public static string Write(IEnumerable<ConfigObject> objects)
    {
        var sb = new StringBuilder("# The control plane's providers, routes, teams and keys ('proxy admin export'); apply with 'proxy admin apply FILE'.\n");
        var list = objects.OrderBy(o => o.Name, StringComparer.Ordinal).ToList();
        foreach (var kind in new[] { ObjectKind.Provider, ObjectKind.Route, ObjectKind.Team })
        {
            var of = list.Where(o => o.Kind == kind).ToList();
            sb.Append(ConfigObject.SectionOf(kind)).Append(':');
            if (of.Count == 0) sb.Append(" {}");
            sb.Append('\n');
            foreach (var o in of)
            {
                sb.Append("  ").Append(Quote(o.Name)).Append(':');
                Emit(sb, o.Body, 4);
            }
        }
        var keys = list.Where(o => o.Kind == ObjectKind.Key).ToList();
        sb.Append("keys:").Append(keys.Count == 0 ? " []\n" : "\n");
        foreach (var o in keys)
        {
            var entry = new JsonObject { ["id"] = o.Name };
            foreach (var (k, v) in o.Body) entry[k] = v?.DeepClone();
            sb.Append("  -");
            EmitInline(sb, entry, 4);
        }
        return sb.ToString();
    }

    private static void Emit(StringBuilder sb, JsonNode? node, int indent)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                sb.Append('\n');
                foreach (var (k, v) in o)
                {
                    sb.Append(' ', indent).Append(Quote(k)).Append(':');
                    Emit(sb, v, indent + 2);
                }
                break;
            case JsonArray a when a.Count > 0:
                sb.Append('\n');
                foreach (var v in a)
                {
                    sb.Append(' ', indent).Append('-');
                    EmitInline(sb, v, indent + 2);
                }
                break;
            default:
                sb.Append(' ').Append(Scalar(node)).Append('\n');
                break;
        }
    }

    /// <summary>A list item: a mapping's first field on the dash's line.</summary>
    private static void EmitInline(StringBuilder sb, JsonNode? node, int indent)
    {
        if (node is JsonObject o && o.Count > 0)
        {
            bool first = true;
            foreach (var (k, v) in o)
            {
                if (first) sb.Append(' ');
                else sb.Append(' ', indent);
                first = false;
                sb.Append(Quote(k)).Append(':');
                Emit(sb, v, indent + 2);
            }
        }
        else Emit(sb, node, indent);
    }

    private static string Scalar(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Quote(v.GetValue<string>()),
        _ => node.ToJsonString(),
    };

    /// <summary>JSON's string quoting, which YAML reads as a double-quoted scalar.</summary>
    private static string Quote(string s) => JsonValue.Create(s).ToJsonString();
}
