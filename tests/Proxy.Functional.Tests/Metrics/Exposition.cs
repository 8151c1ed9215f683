using System.Globalization;
using System.Text.RegularExpressions;

namespace Proxy.Functional.Tests.Metrics;

/// <summary>One sample line of a scrape.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A parsed scrape (text format): the samples, looked up by name and labels.</summary>
public sealed partial class Exposition(string text, IReadOnlyList<Sample> samples)
{
    public string Text { get; } = text;

    public IReadOnlyList<Sample> Samples { get; } = samples;

    public static Exposition Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = LineRegex().Match(line);
            Assert.True(m.Success, $"unparseable sample line: {line}");
            var labels = new Dictionary<string, string>();
            foreach (Match l in LabelRegex().Matches(m.Groups["labels"].Value))
            {
                labels[l.Groups[1].Value] = l.Groups[2].Value.Replace("\\\"", "\"").Replace("\\n", "\n").Replace("\\\\", "\\");
            }
            var value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(m.Groups["name"].Value, labels, value));
        }
        return new Exposition(text, samples);
    }

    /// <summary>The value of the one sample with this name and (at least) these labels; 0 when there is none.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        var matches = Find(name, labels).ToList();
        Assert.True(matches.Count <= 1, $"{matches.Count} samples of {name} match {string.Join(",", labels)}");
        return matches.Count == 0 ? 0 : matches[0].Value;
    }

    public IEnumerable<Sample> Find(string name, params (string Name, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value));

    /// <summary>Distinct series (name plus labels).</summary>
    public int SeriesCount => Samples.Count;

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$""")]
    private static partial Regex LineRegex();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelRegex();
}
