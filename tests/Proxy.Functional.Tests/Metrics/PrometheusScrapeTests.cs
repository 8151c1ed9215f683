using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Metrics;

/// <summary>A real Prometheus server scrapes the gateway (OpenMetrics negotiated, as Prometheus does) and its query API has the series.</summary>
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task Prometheus_ScrapesTheGateway_QueryApiReturnsTheSeries()
    {
        await using var env = await TestEnv.StartAsync();
        for (int i = 0; i < 3; i++)
        {
            (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""")).Dispose();
        }

        var dir = Directory.CreateTempSubdirectory("prom-");
        int port = FreePort();
        var target = new Uri(env.Gateway.Client.BaseAddress!, "/").Authority;
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
            scrape_configs:
              - job_name: gateway
                metrics_path: /metrics
                static_configs:
                  - targets: ['{target}']
            """);
        var psi = new ProcessStartInfo(PromtoolTests.Tool("prometheus"),
            $"--config.file={dir.FullName}/prometheus.yml --storage.tsdb.path={dir.FullName}/data --web.listen-address=127.0.0.1:{port}")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var prometheus = Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        prometheus.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        prometheus.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            JsonElement result = default;
            var deadline = DateTime.UtcNow.AddSeconds(45);
            while (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                try
                {
                    var json = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString("llm_gateway_requests_total{route=\"mock-gpt\",status=\"200\"}"));
                    using var doc = JsonDocument.Parse(json);
                    result = doc.RootElement.GetProperty("data").GetProperty("result").Clone();
                    if (result.GetArrayLength() > 0) break;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
            }
            lock (log) Assert.True(result.ValueKind == JsonValueKind.Array && result.GetArrayLength() == 1, "no series from Prometheus; its log:\n" + log);
            var series = result[0];
            Assert.Equal("gateway", series.GetProperty("metric").GetProperty("job").GetString());
            Assert.Equal("mock", series.GetProperty("metric").GetProperty("provider").GetString());
            Assert.Equal("3", series.GetProperty("value")[1].GetString());

            // The scrape itself is healthy, and histograms arrive whole.
            var up = await http.GetStringAsync("/api/v1/query?query=up");
            Assert.Contains("\"1\"]", up, StringComparison.Ordinal);
            var buckets = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString("llm_gateway_request_duration_seconds_bucket{route=\"mock-gpt\",le=\"+Inf\"}"));
            Assert.Contains("\"3\"]", buckets, StringComparison.Ordinal);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            dir.Delete(recursive: true);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
