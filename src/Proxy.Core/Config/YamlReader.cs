using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

/// <summary>
/// Walks a YAML node tree by hand (no reflection, so it stays AOT-clean) and records every mistake
/// with its path and position instead of stopping at the first.
/// </summary>
internal sealed class YamlReader(SecretResolver secrets)
{
    public List<ConfigError> Errors { get; } = [];

    /// <summary>With a control plane: no providers or routes yet is a state (a new database), not a mistake.</summary>
    public bool DataMayBeEmpty { get; init; }

    public void Error(YamlNode? node, string path, string reason) =>
        Errors.Add(new ConfigError(path, node is null ? 0 : (int)node.Start.Line, node is null ? 0 : (int)node.Start.Column, reason));

    /// <summary>The mapping's entries, after checking that every key is one this section knows.</summary>
    public IEnumerable<(string Key, YamlNode Value, string Path)> Entries(YamlMappingNode map, string path, IReadOnlyCollection<string>? allowed)
    {
        foreach (var (k, v) in map.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            var child = path.Length == 0 ? key : path + "." + key;
            if (allowed is not null && !allowed.Contains(key))
            {
                Error(k, child, $"unknown field '{key}'{Suggest(key, allowed)}");
                continue;
            }
            yield return (key, v, child);
        }
    }

    public YamlMappingNode? Mapping(YamlNode? node, string path)
    {
        if (node is YamlMappingNode m) return m;
        if (node is not null && !IsNull(node)) Error(node, path, "expected a mapping (key: value lines)");
        return null;
    }

    public YamlSequenceNode? Sequence(YamlNode? node, string path)
    {
        if (node is YamlSequenceNode s) return s;
        if (node is not null && !IsNull(node)) Error(node, path, "expected a list ('- item' lines)");
        return null;
    }

    /// <summary>A scalar with ${...} references expanded.</summary>
    public string? String(YamlNode node, string path)
    {
        if (node is not YamlScalarNode { Value: { } raw })
        {
            Error(node, path, "expected a single value");
            return null;
        }
        var value = secrets.Expand(raw, out var error);
        if (value is null) Error(node, path, error!);
        return value;
    }

    public Uri? Url(YamlNode node, string path)
    {
        var s = String(node, path);
        if (s is null) return null;
        if (!Uri.TryCreate(s.TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            Error(node, path, $"'{s}' is not an absolute http:// or https:// URL");
            return null;
        }
        return uri;
    }

    public TimeSpan? Duration(YamlNode node, string path)
    {
        var s = String(node, path);
        if (s is null) return null;
        if (ConfigValues.TryParseDuration(s, out var d)) return d;
        Error(node, path, $"'{s}' is not a duration (write it like 250ms, 10s, 2m)");
        return null;
    }

    public long? Size(YamlNode node, string path)
    {
        var s = String(node, path);
        if (s is null) return null;
        if (ConfigValues.TryParseSize(s, out var n)) return n;
        Error(node, path, $"'{s}' is not a positive size in bytes (4194304, 512KiB, 4MiB)");
        return null;
    }

    public bool? Bool(YamlNode node, string path)
    {
        var s = String(node, path);
        if (s is null) return null;
        if (s is "true" or "yes" or "on") return true;
        if (s is "false" or "no" or "off") return false;
        Error(node, path, $"'{s}' is not true or false");
        return null;
    }

    public double? Number(YamlNode node, string path, double min, double max)
    {
        var s = String(node, path);
        if (s is null) return null;
        if (double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
            return n;
        Error(node, path, $"'{s}' is not a number between {min} and {max}");
        return null;
    }

    private static bool IsNull(YamlNode node) => node is YamlScalarNode { Value: null or "" or "~" or "null" };

    private static string Suggest(string key, IReadOnlyCollection<string> allowed)
    {
        var best = allowed.OrderBy(a => Distance(a, key)).First();
        return Distance(best, key) <= 2 ? $" (did you mean '{best}'?)" : $" (expected one of: {string.Join(", ", allowed)})";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
