using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Metrics;

/// <summary>/metrics after known traffic: every counter moved by exactly what was sent.</summary>
public sealed class MetricsTests
{
    private const string Plain = """{"model":"mock-gpt","messages":[{"role":"user","content":"hello"}]}""";
    private const string Stream = """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hello"}]}""";

    /// <summary>
    /// A scrape once no request is in flight: a client has its answer a moment before the gateway's accounting for
    /// that request runs, so a scrape right after the last answer could miss it.
    /// </summary>
    internal static async Task<Exposition> ScrapeAsync(GatewayHost gateway, string path = "/metrics")
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await gateway.GetAsync(path, key: null);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
            var exposition = Exposition.Parse(await response.Content.ReadAsStringAsync());
            if (exposition.Value("llm_gateway_requests_in_flight") == 0 || DateTime.UtcNow > deadline) return exposition;
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Metrics_AfterKnownRequests_EachCounterMovedByExactlyWhatWasSent()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 500, """{"error":{"message":"boom","type":"server_error","param":null,"code":null}}""");
        var before = await ScrapeAsync(env.Gateway);

        for (int i = 0; i < 7; i++) (await env.Gateway.PostAsync("/v1/chat/completions", Plain)).Dispose();
        for (int i = 0; i < 3; i++)
        {
            using var r = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Stream);
            await r.Content.ReadAsStringAsync();
        }
        for (int i = 0; i < 2; i++) (await env.Gateway.PostAsync("/v1/chat/completions", Plain, key: null)).Dispose();
        (await env.Gateway.PostAsync("/v1/chat/completions", Plain, key: "sk-wrong")).Dispose();
        (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[]}""", key: TestKeys.Limited)).Dispose();
        for (int i = 0; i < 4; i++) (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"no-such-model","messages":[]}""")).Dispose();
        for (int i = 0; i < 5; i++) (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[]}""")).Dispose();

        var after = await ScrapeAsync(env.Gateway);
        double Delta(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
        (string, string)[] mock = [("route", "mock-gpt"), ("provider", "mock"), ("model", "mock-1")];
        (string, string)[] up = [("route", "gpt-test"), ("provider", "up"), ("model", "upstream-model")];

        Assert.Equal(10, Delta("llm_gateway_requests_total", [.. mock, ("status", "200"), ("error_class", "none")]));
        Assert.Equal(5, Delta("llm_gateway_requests_total", [.. up, ("status", "500"), ("error_class", "upstream_error")]));
        Assert.Equal(3, Delta("llm_gateway_requests_total", [("route", "other"), ("status", "401"), ("error_class", "authentication_error")]));
        Assert.Equal(4, Delta("llm_gateway_requests_total", [("route", "other"), ("status", "404"), ("error_class", "not_found_error")]));
        // A key refused a known route is counted under that route, with no provider called.
        Assert.Equal(1, Delta("llm_gateway_requests_total", [("route", "gpt-test"), ("provider", "none"), ("status", "403")]));
        Assert.Equal(2, Delta("llm_gateway_requests_rejected_total", ("reason", "missing_key")));
        Assert.Equal(1, Delta("llm_gateway_requests_rejected_total", ("reason", "invalid_key")));
        Assert.Equal(1, Delta("llm_gateway_requests_rejected_total", ("reason", "model_not_allowed")));
        Assert.Equal(5, Delta("llm_gateway_upstream_errors_total", ("provider", "up"), ("class", "server_error")));
        Assert.Equal(0, Delta("llm_gateway_upstream_errors_total", ("provider", "mock"), ("class", "server_error")));

        // Histogram counts equal their requests: every request has a duration; only streams a first token.
        Assert.Equal(10, Delta("llm_gateway_request_duration_seconds_count", mock));
        Assert.Equal(10, Delta("llm_gateway_overhead_seconds_count", mock));
        Assert.Equal(10, Delta("llm_gateway_upstream_time_to_first_byte_seconds_count", mock));
        Assert.Equal(3, Delta("llm_gateway_time_to_first_token_seconds_count", mock));
        Assert.Equal(5, Delta("llm_gateway_request_duration_seconds_count", up));
        Assert.Equal(10, Delta("llm_gateway_request_duration_seconds_bucket", [.. mock, ("le", "+Inf")]));
        // The mock streams role + 5 content + finish + [DONE] events; a gap is observed between two flushes, and events
        // that arrive in one read go out in one flush, so under load a stream may have fewer gaps, never more.
        Assert.InRange(Delta("llm_gateway_stream_chunk_gap_seconds_count", mock), 0, 3 * 9);

        // 5 completion tokens per answer; 10 answers.
        Assert.Equal(50, Delta("llm_gateway_tokens_total", [.. mock, ("type", "completion")]));
        Assert.True(Delta("llm_gateway_tokens_total", [.. mock, ("type", "prompt")]) > 0);
        Assert.Equal(0, Delta("llm_gateway_requests_in_flight"));
        // Each request left one log record, and the log accepted each.
        double requests = after.Find("llm_gateway_requests_total").Sum(s => s.Value) - before.Find("llm_gateway_requests_total").Sum(s => s.Value);
        Assert.Equal(requests, Delta("llm_gateway_log_records_total", ("result", "accepted")));
        Assert.Equal(0, Delta("llm_gateway_log_records_total", ("result", "dropped")));
    }

    [Fact]
    public async Task StreamChunkGaps_PacedUpstream_OneGapPerFlushWithTheirDuration()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await Upstream.Send(ctx, Upstream.Event(Upstream.RoleChunk));
            for (int i = 0; i < 3; i++)
            {
                await Task.Delay(60);
                await Upstream.Send(ctx, Upstream.Event(Upstream.Chunk("x" + i)));
            }
            await Task.Delay(60);
            await Upstream.Send(ctx, Upstream.Event(Upstream.UsageChunk) + Upstream.Done);
        };
        using (var r = await env.Gateway.PostStreamingAsync("/v1/chat/completions", """{"model":"gpt-test","stream":true,"messages":[]}"""))
        {
            await r.Content.ReadAsStringAsync();
        }

        var m = await ScrapeAsync(env.Gateway);
        (string, string)[] up = [("route", "gpt-test"), ("provider", "up"), ("model", "upstream-model")];
        // Five flushes 60 ms apart (the usage chunk is stripped, [DONE] goes with it): four gaps, none under 50 ms.
        Assert.Equal(4, m.Value("llm_gateway_stream_chunk_gap_seconds_count", up));
        Assert.Equal(0, m.Value("llm_gateway_stream_chunk_gap_seconds_bucket", [.. up, ("le", "0.05")]));
        Assert.InRange(m.Value("llm_gateway_stream_chunk_gap_seconds_sum", up), 0.2, 5);
    }

    [Fact]
    public async Task Cost_FromConfiguredPrice_MatchesTokensTimesPrice()
    {
        await using var env = await TestEnv.StartAsync(u => TestConfig.Standard(u) + "\npricing:\n  mock-1: { input: 3.0, output: 15.0 }\n");

        for (int i = 0; i < 4; i++) (await env.Gateway.PostAsync("/v1/chat/completions", Plain)).Dispose();

        var m = await ScrapeAsync(env.Gateway);
        (string, string)[] mock = [("route", "mock-gpt"), ("provider", "mock"), ("model", "mock-1")];
        double prompt = m.Value("llm_gateway_tokens_total", [.. mock, ("type", "prompt")]);
        double completion = m.Value("llm_gateway_tokens_total", [.. mock, ("type", "completion")]);
        Assert.Equal(20, completion);
        Assert.Equal((prompt * 3.0 + completion * 15.0) / 1e6, m.Value("llm_gateway_cost_usd_total", mock), 12);
    }

    [Fact]
    public async Task Scrape_WithOpenMetricsAccept_AnswersOpenMetricsEndingInEof()
    {
        await using var env = await TestEnv.StartAsync();
        (await env.Gateway.PostAsync("/v1/chat/completions", Plain)).Dispose();

        using var request = env.Gateway.Request(HttpMethod.Get, "/metrics", key: null);
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        using var response = await env.Gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.StartsWith("application/openmetrics-text; version=1.0.0", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
        // OpenMetrics names the counter family without _total; its samples keep it.
        Assert.Contains("# TYPE llm_gateway_requests counter\n", text, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_requests_total{route=\"mock-gpt\"", text, StringComparison.Ordinal);
    }
}

/// <summary>metrics.listen: the scrape has its own port, and neither port serves the other's paths.</summary>
public sealed class MetricsPortTests
{
    [Fact]
    public async Task MetricsListen_ServesMetricsOnlyOnItsOwnPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var env = await TestEnv.StartAsync(u => TestConfig.Standard(u) + $"\nmetrics:\n  listen: http://127.0.0.1:{port}\n");
        using var metricsPort = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var scrape = await metricsPort.GetAsync("/metrics");
        using var onMainPort = await env.Gateway.GetAsync("/metrics", key: null);
        using var apiOnMetricsPort = await metricsPort.PostAsync("/v1/chat/completions", new StringContent("{}"));
        using var api = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, (int)scrape.StatusCode);
        Assert.Contains("llm_gateway_requests_in_flight", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(404, (int)onMainPort.StatusCode);
        Assert.Equal(404, (int)apiOnMetricsPort.StatusCode);
        Assert.Equal(200, (int)api.StatusCode);
    }
}

/// <summary>Config reloads are counted, and one bad version is counted (and logged) once however often it is seen.</summary>
public sealed class ConfigReloadMetricsTests
{
    [Fact]
    public async Task RejectedConfig_CountedOnce_EvenWhenOtherFilesInItsDirectoryKeepChanging()
    {
        await using var env = await TestEnv.StartAsync();
        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl, "  broken: { provider: nowhere }"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        // A neighbour file (a log next to the config, say) changing must not re-reject the same version.
        var neighbour = Path.Combine(Path.GetDirectoryName(env.Gateway.ConfigPath)!, "neighbour.log");
        for (int i = 0; i < 5; i++)
        {
            await File.AppendAllTextAsync(neighbour, "line\n");
            await Task.Delay(400);
        }
        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl, "  fresh: { provider: mock }"));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        Exposition m;
        do
        {
            await Task.Delay(200);
            m = await MetricsTests.ScrapeAsync(env.Gateway);
        }
        while (m.Value("llm_gateway_config_reloads_total", ("result", "applied")) < 1 && DateTime.UtcNow < deadline);

        Assert.Equal(1, m.Value("llm_gateway_config_reloads_total", ("result", "rejected")));
        Assert.Equal(1, m.Value("llm_gateway_config_reloads_total", ("result", "applied")));
    }
}
