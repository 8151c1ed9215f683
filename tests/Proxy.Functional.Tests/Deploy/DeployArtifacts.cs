using System.Diagnostics;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Proxy.Functional.Tests.Deploy;

/// <summary>One alerting or recording rule from a file under deploy/prometheus.</summary>
public sealed record Rule(string File, string Name, bool IsAlert, string Expr,
    IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations);

/// <summary>The files under deploy/ and the tools that check them, found from the test's base directory.</summary>
public static class DeployArtifacts
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string PrometheusDir => Path.Combine(RepoRoot, "deploy", "prometheus");

    public static string DashboardPath => Path.Combine(RepoRoot, "deploy", "grafana", "llm-gateway-dashboard.json");

    /// <summary>Every rule file: the YAML in deploy/prometheus that is neither a promtool test nor a kustomization.</summary>
    public static string[] RuleFiles() =>
    [
        .. Directory.GetFiles(PrometheusDir, "*.yaml")
            .Where(f => !f.EndsWith(".test.yaml", StringComparison.Ordinal) && Path.GetFileName(f) != "kustomization.yaml")
            .Order(StringComparer.Ordinal),
    ];

    public static IReadOnlyList<Rule> Rules()
    {
        var rules = new List<Rule>();
        foreach (var file in RuleFiles())
        {
            var yaml = new YamlStream();
            using (var reader = File.OpenText(file)) yaml.Load(reader);
            var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["groups"];
            foreach (var rule in groups.Cast<YamlMappingNode>().SelectMany(g => ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>()))
            {
                bool isAlert = rule.Children.ContainsKey("alert");
                rules.Add(new Rule(Path.GetFileName(file), Scalar(rule, isAlert ? "alert" : "record"), isAlert, Scalar(rule, "expr"),
                    Map(rule, "labels"), Map(rule, "annotations")));
            }
        }
        return rules;
    }

    /// <summary>Every panel, rows' nested panels included (a collapsed row keeps its panels inside it).</summary>
    public static IEnumerable<JsonElement> Panels(JsonElement container)
    {
        if (!container.TryGetProperty("panels", out var panels)) yield break;
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            foreach (var nested in Panels(panel)) yield return nested;
        }
    }

    public static bool IsRow(JsonElement panel) => panel.TryGetProperty("type", out var t) && t.GetString() == "row";

    public static IEnumerable<string> Exprs(JsonElement panel) =>
        panel.TryGetProperty("targets", out var targets)
            ? targets.EnumerateArray().Select(t => t.TryGetProperty("expr", out var e) ? e.GetString() ?? "" : "")
            : [];

    /// <summary>Runs promtool in deploy/prometheus. Missing promtool fails the test: the rules would go unchecked.</summary>
    public static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] args)
    {
        var promtool = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "promtool")).FirstOrDefault(File.Exists);
        if (promtool is null)
        {
            Assert.Fail("promtool is not on PATH, so the Prometheus rules cannot be checked. Install it: " +
                "apt-get install prometheus (Debian; .ci/install.sh does this), or put a promtool binary on PATH.");
        }
        var psi = new ProcessStartInfo(promtool!)
        {
            WorkingDirectory = PrometheusDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"promtool {string.Join(' ', args)} did not finish within 60 s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value ?? "" : "";

    private static Dictionary<string, string> Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var v)
            ? ((YamlMappingNode)v).Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value ?? "")
            : [];

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Proxy.sln not found above " + AppContext.BaseDirectory);
    }
}
