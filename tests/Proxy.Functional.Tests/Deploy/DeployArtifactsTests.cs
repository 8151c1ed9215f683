using System.Text.Json;
using System.Text.RegularExpressions;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Deploy;

/// <summary>
/// deploy/prometheus and deploy/grafana: the rules are valid and their unit tests pass (promtool), and every metric
/// the dashboard and the alerts query is one the real gateway exposes, so a renamed metric breaks this test and
/// not a dashboard in production.
/// </summary>
public sealed partial class DeployArtifactsTests
{
    private const string Chat = """{"model":"mock-gpt","messages":[{"role":"user","content":"Hello"}]}""";
    private const string StreamedChat = """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"Hello"}]}""";

    [Fact]
    public async Task RuleFiles_PassPromtoolCheck()
    {
        var files = DeployArtifacts.RuleFiles();
        Assert.Contains(files, f => Path.GetFileName(f) == "alerts.yaml");

        var (exit, output) = await DeployArtifacts.PromtoolAsync(["check", "rules", .. files.Select(f => Path.GetFileName(f))]);

        Assert.True(exit == 0, $"promtool check rules exited {exit}:\n{output}");
    }

    [Fact]
    public async Task AlertUnitTests_FireOnSyntheticSeries_AndStayQuietWithout()
    {
        var (exit, output) = await DeployArtifacts.PromtoolAsync("test", "rules", "alerts.test.yaml");

        Assert.True(exit == 0, $"promtool test rules exited {exit}:\n{output}");
    }

    /// <summary>
    /// Routes that make the routing metrics appear (they are made at first use): a fallback off a failing target (whose
    /// breaker opens), a retry that runs out of attempts, and one that runs out of budget. The fake upstream answers 500.
    /// </summary>
    private const string RoutingRoutes = """
          demo-fallback:
            targets: [{ provider: up, model: a }, { provider: mock, model: mock-1 }]
            circuit_breaker: { consecutive_failures: 1 }
          demo-retry:
            provider: up
            model: b
            retries: { attempts: 2, backoff: 10ms }
          demo-budget:
            provider: up
            model: c
            retries: { attempts: 2, budget: { ratio: 0, min_per_second: 0 } }
        """;

    [Fact]
    public async Task DashboardAndAlerts_QueryOnlyMetricsTheGatewayExposes()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, RoutingRoutes));
        using (var fallback = await env.Gateway.PostAsync("/v1/chat/completions", Chat.Replace("mock-gpt", "demo-fallback", StringComparison.Ordinal)))
            Assert.Equal(200, (int)fallback.StatusCode);
        foreach (var route in new[] { "demo-retry", "demo-budget" })
        {
            using var failed = await env.Gateway.PostAsync("/v1/chat/completions", Chat.Replace("mock-gpt", route, StringComparison.Ordinal));
            Assert.Equal(500, (int)failed.StatusCode);
        }
        using (var plain = await env.Gateway.PostAsync("/v1/chat/completions", Chat)) Assert.Equal(200, (int)plain.StatusCode);
        using (var stream = await env.Gateway.PostAsync("/v1/chat/completions", StreamedChat))
        {
            Assert.Equal(200, (int)stream.StatusCode);
            Assert.Contains("[DONE]", await stream.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var noKey = await env.Gateway.PostAsync("/v1/chat/completions", Chat, key: null)) Assert.Equal(401, (int)noKey.StatusCode);
        using (var unknown = await env.Gateway.PostAsync("/v1/chat/completions", Chat.Replace("mock-gpt", "no-such-model", StringComparison.Ordinal)))
            Assert.Equal(404, (int)unknown.StatusCode);
        var scrape = await ScrapeAfterRequestsAsync(env.Gateway, requests: 4);

        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(DeployArtifacts.DashboardPath));
        var queries = DeployArtifacts.Panels(dashboard.RootElement)
            .SelectMany(p => DeployArtifacts.Exprs(p).Select(e => ($"panel '{p.GetProperty("title").GetString()}'", PromQl.Selectors(e))))
            .Concat(dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
                .Where(v => v.GetProperty("type").GetString() == "query")
                .Select(v => ($"variable {v.GetProperty("name").GetString()}", PromQl.VariableSelectors(VariableQuery(v)))))
            .ToList();
        var rules = DeployArtifacts.Rules();
        queries.AddRange(rules.Select(r => ($"rule {r.Name}", PromQl.Selectors(r.Expr))));
        // A name a recording rule defines is checked through that rule's own expression.
        var allowed = rules.Where(r => !r.IsAlert).Select(r => r.Name).Append("up").ToHashSet(StringComparer.Ordinal);

        var missing = new List<string>();
        foreach (var (where, selectors) in queries)
        {
            foreach (var s in selectors.Where(s => !allowed.Contains(s.Name)))
            {
                if (!scrape.TryGetValue(s.Name, out var series))
                {
                    missing.Add($"{where}: {s.Name} is not in the scrape");
                    continue;
                }
                // label="value" must name a series that exists, or the query silently matches nothing.
                foreach (var (label, _, value) in s.Matchers.Where(m => m.Op == "=" && !m.Value.Contains('$', StringComparison.Ordinal)))
                {
                    if (!series.Any(l => l.TryGetValue(label, out var v) && v == value)) missing.Add($"{where}: no {s.Name}{{{label}=\"{value}\"}}");
                }
            }
        }
        Assert.True(missing.Count == 0, "queries name what the gateway does not expose:\n" + string.Join('\n', missing));
        // The extractor finding nothing would pass the check above vacuously.
        Assert.True(queries.SelectMany(q => q.Item2).Select(s => s.Name).Distinct().Count() >= 30, "too few metric names found in the queries");
    }

    [Fact]
    public void Dashboard_HasDatasourceVariable_AndEveryPanelATitleAndAQuery()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DeployArtifacts.DashboardPath));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36);
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        var datasource = Assert.Single(variables, v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());
        foreach (var name in new[] { "route", "provider" })
        {
            var v = Assert.Single(variables, v => v.GetProperty("name").GetString() == name);
            Assert.Equal("query", v.GetProperty("type").GetString());
            Assert.StartsWith("label_values(", VariableQuery(v), StringComparison.Ordinal);
        }

        var panels = DeployArtifacts.Panels(root).ToList();
        Assert.Contains(panels, p => DeployArtifacts.IsRow(p) && p.GetProperty("panels").GetArrayLength() > 0);
        foreach (var panel in panels)
        {
            var title = panel.TryGetProperty("title", out var t) ? t.GetString() : null;
            Assert.False(string.IsNullOrWhiteSpace(title), $"panel {panel.GetProperty("id")} has no title");
            if (DeployArtifacts.IsRow(panel)) continue;
            var exprs = DeployArtifacts.Exprs(panel).ToList();
            Assert.True(exprs.Count > 0 && exprs.All(e => e.Length > 0), $"panel '{title}' has no query");
            Assert.Equal("${" + datasource.GetProperty("name").GetString() + "}", panel.GetProperty("datasource").GetProperty("uid").GetString());
        }
    }

    [Fact]
    public void Alerts_HaveSeverity_Annotations_AndARunbookSection()
    {
        var anchors = File.ReadLines(Path.Combine(DeployArtifacts.PrometheusDir, "README.md"))
            .Where(l => l.StartsWith('#')).Select(GitHubAnchor).ToHashSet(StringComparer.Ordinal);
        var alerts = DeployArtifacts.Rules().Where(r => r.IsAlert).ToList();
        Assert.NotEmpty(alerts);
        Assert.Equal(alerts.Count, alerts.Select(a => a.Name).Distinct().Count());
        foreach (var alert in alerts)
        {
            Assert.Contains(alert.Labels.GetValueOrDefault("severity"), new[] { "page", "ticket" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("summary")), alert.Name + ": no summary");
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("description")), alert.Name + ": no description");
            var runbook = alert.Annotations.GetValueOrDefault("runbook_url") ?? "";
            Assert.StartsWith("deploy/prometheus/README.md#", runbook, StringComparison.Ordinal);
            Assert.True(anchors.Contains(runbook[(runbook.IndexOf('#', StringComparison.Ordinal) + 1)..]), $"{alert.Name}: {runbook} is not a section of the README");
        }
    }

    /// <summary>Scrapes until the requests are counted: a response can reach the client just before its metrics are recorded.</summary>
    private static async Task<Dictionary<string, List<Dictionary<string, string>>>> ScrapeAfterRequestsAsync(GatewayHost gateway, int requests)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var response = await gateway.GetAsync("/metrics", key: null);
            Assert.Equal(200, (int)response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            var samples = ParseExposition(text);
            double counted = RequestCount().Matches(text).Sum(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            if (counted >= requests) return samples;
            Assert.True(attempt < 50, $"the scrape counts {counted} requests, expected {requests}:\n{text}");
            await Task.Delay(100);
        }
    }

    /// <summary>Sample name -> the label sets of its samples, from the Prometheus text format.</summary>
    private static Dictionary<string, List<Dictionary<string, string>>> ParseExposition(string text)
    {
        var samples = new Dictionary<string, List<Dictionary<string, string>>>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            int end = line.IndexOfAny(['{', ' ']);
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (line[end] == '{')
            {
                foreach (Match m in Label().Matches(line[end..line.LastIndexOf('}')])) labels[m.Groups[1].Value] = m.Groups[2].Value;
            }
            var name = line[..end];
            if (!samples.TryGetValue(name, out var list)) samples[name] = list = [];
            list.Add(labels);
        }
        return samples;
    }

    /// <summary>A query variable's query: a string in older dashboards, {"query": "..."} in newer ones.</summary>
    private static string VariableQuery(JsonElement variable)
    {
        var q = variable.GetProperty("query");
        return (q.ValueKind == JsonValueKind.Object ? q.GetProperty("query").GetString() : q.GetString()) ?? "";
    }

    /// <summary>The anchor GitHub gives a Markdown heading: lowercase, punctuation dropped, spaces to hyphens.</summary>
    private static string GitHubAnchor(string heading) =>
        new string([.. heading.TrimStart('#').Trim().ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')]).Replace(' ', '-');

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)""")]
    private static partial Regex Label();

    [GeneratedRegex("""(?m)^llm_gateway_requests_total\{[^}]*\} (\S+)""")]
    private static partial Regex RequestCount();
}
