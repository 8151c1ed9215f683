using BenchmarkDotNet.Running;
using Proxy.Benchmarks;

// dotnet run -c Release --project perf/Proxy.Benchmarks -- --filter '*'   (see perf/README.md)
// dotnet run -c Release --project perf/Proxy.Benchmarks -- --expositions DIR   writes own.prom and prometheus-net.prom,
//   the two scrapes PrometheusNetBenchmarks measures, for `promtool check metrics` and a comparison of their series.
if (args is ["--expositions", var dir])
{
    var (own, promNet) = await PrometheusNetBenchmarks.ExpositionsAsync();
    Directory.CreateDirectory(dir);
    await File.WriteAllBytesAsync(Path.Combine(dir, "own.prom"), own);
    await File.WriteAllBytesAsync(Path.Combine(dir, "prometheus-net.prom"), promNet);
    Console.WriteLine($"wrote {Path.Combine(dir, "own.prom")} ({own.Length} B) and {Path.Combine(dir, "prometheus-net.prom")} ({promNet.Length} B)");
    // Same names means the same series: compare name + sorted labels of every sample, values aside.
    var ownSeries = Series(own);
    var promSeries = Series(promNet);
    Console.WriteLine($"series: own {ownSeries.Count}, prometheus-net {promSeries.Count}");
    foreach (var s in ownSeries.Except(promSeries).Order(StringComparer.Ordinal)) Console.WriteLine($"  only in own: {s}");
    foreach (var s in promSeries.Except(ownSeries).Order(StringComparer.Ordinal)) Console.WriteLine($"  only in prometheus-net: {s}");
    Environment.ExitCode = ownSeries.SetEquals(promSeries) ? 0 : 1;
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(InProcessGateway).Assembly).Run(args);

// "name{b="1",a="2"} value" -> "name{a="2",b="1"}", bucket bounds as numbers (1e-05 and 0.00001 are one bucket).
// Label values here hold no commas, quotes or braces.
static HashSet<string> Series(byte[] exposition) =>
    [.. System.Text.Encoding.UTF8.GetString(exposition).Split('\n')
        .Where(line => line.Length > 0 && line[0] != '#')
        .Select(line =>
        {
            var head = line[..line.LastIndexOf(' ')];
            int brace = head.IndexOf('{');
            if (brace < 0) return head;
            var labels = head[(brace + 1)..^1].Split(',').Select(Bound).Order(StringComparer.Ordinal);
            return head[..brace] + "{" + string.Join(',', labels) + "}";
        })];

static string Bound(string label) =>
    label.StartsWith("le=\"", StringComparison.Ordinal) && double.TryParse(label[4..^1], System.Globalization.CultureInfo.InvariantCulture, out var le)
        ? "le=\"" + le.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "\""
        : label;
