using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>The request log and the metrics say the same as the headers: who served, after how many attempts, and why the others failed.</summary>
public sealed class RoutingRecordTests
{
    [Fact]
    public async Task Fallback_RecordNamesTheServingTarget_AndEachFailedAttempt()
    {
        await using var env = await RoutingEnv.StartAsync(3, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a, region: eu-west-1, timeouts: { first_byte: 300ms } }
                  - { provider: b, model: m-b, region: eu-west-1 }
                  - { provider: c, model: m-c, region: us-east-1 }
            """);
        env['a'].Handler = ctx => Upstream.Hang(ctx);
        env['b'].Handler = ctx => RoutingEnv.Error(ctx, 502);

        using (var response = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(response, "c/m-c", attempts: 3);
        var m = await env.ScrapeAsync();
        await env.Gateway.StopAsync();

        var record = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory));
        Assert.Equal("r", record.GetProperty("route").GetString());
        Assert.Equal("c", record.GetProperty("provider").GetString());
        Assert.Equal("m-c", record.GetProperty("upstream_model").GetString());
        Assert.Equal("us-east-1", record.GetProperty("region").GetString());
        Assert.Equal(200, record.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("upstream_error").ValueKind);
        Assert.Equal(3, record.GetProperty("attempts").GetInt32());
        var failed = record.GetProperty("failed_attempts").EnumerateArray().ToList();
        Assert.Equal(2, failed.Count);
        Assert.Equal(("a", "m-a", "eu-west-1", "first_byte_timeout", 0, "fallback"), Describe(failed[0]));
        Assert.Equal(("b", "m-b", "eu-west-1", "server_error", 502, "fallback"), Describe(failed[1]));
        Assert.InRange(failed[0].GetProperty("duration_us").GetInt64(), 250_000, 2_000_000);
        Assert.Equal(0, failed[0].GetProperty("delay_us").GetInt64());
        // The wait on the failed attempts is the upstreams' time, not the gateway's overhead.
        Assert.InRange(record.GetProperty("latency_us").GetProperty("gateway_overhead").GetInt64(), 0, 200_000);

        // Counted under the target that served; the failed attempts as their providers' upstream errors.
        Assert.Equal(1, m.Value("llm_gateway_requests_total", ("route", "r"), ("provider", "c"), ("model", "m-c"), ("status", "200")));
        Assert.Empty(m.Find("llm_gateway_requests_total", ("route", "r"), ("provider", "a")));
        Assert.Equal(1, m.Value("llm_gateway_upstream_errors_total", ("provider", "a"), ("class", "timeout")));
        Assert.Equal(1, m.Value("llm_gateway_upstream_errors_total", ("provider", "b"), ("class", "server_error")));
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "a"), ("model", "m-a"), ("reason", "first_byte_timeout")));
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "b"), ("model", "m-b"), ("reason", "server_error")));
    }

    [Fact]
    public async Task AllAttemptsFail_RecordCarriesTheLastFailureAndTheEarlierOnes()
    {
        await using var env = await RoutingEnv.StartAsync(1, """
              r:
                provider: a
                model: m-a
                retries: { attempts: 2, backoff: 10ms }
            """);
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 503);

        using (var response = await env.PostAsync(RoutingEnv.Body())) await Routed.ErrorAsync(response, 503, "a/m-a", attempts: 2, "server_error");
        await env.Gateway.StopAsync();

        var record = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory));
        Assert.Equal(503, record.GetProperty("status").GetInt32());
        Assert.Equal("server_error", record.GetProperty("upstream_error").GetString());
        Assert.Equal(2, record.GetProperty("attempts").GetInt32());
        var failed = Assert.Single(record.GetProperty("failed_attempts").EnumerateArray());
        Assert.Equal(("a", "m-a", null, "server_error", 503, "retry"), Describe(failed));
        Assert.InRange(failed.GetProperty("delay_us").GetInt64(), 5_000, 10_000);
    }

    [Fact]
    public async Task SingleAttempt_RecordHasNoFailedAttempts()
    {
        await using var env = await RoutingEnv.StartAsync(1, "  r: { provider: a, model: m-a }");

        using (var response = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(response, "a/m-a", attempts: 1);
        await env.Gateway.StopAsync();

        var record = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory));
        Assert.Equal(1, record.GetProperty("attempts").GetInt32());
        Assert.False(record.TryGetProperty("failed_attempts", out _));
        Assert.Equal(JsonValueKind.Null, record.GetProperty("region").ValueKind);
    }

    [Fact]
    public async Task Fallback_WithTracing_EachAttemptIsItsOwnSpanInTheSameTrace()
    {
        await using var collector = await FakeUpstream.StartAsync();
        collector.Handler = ctx =>
        {
            ctx.Response.StatusCode = 200;
            return Task.CompletedTask;
        };
        var endpoint = collector.BaseUrl[..^"/v1".Length] + "/v1/traces";
        await using var env = await RoutingEnv.StartAsync(2, FallbackTests.TwoTargets, top: $"tracing:\n  enabled: true\n  endpoint: {endpoint}\n");
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 503);

        // No traceparent from the client: the gateway starts the trace (sample_ratio defaults to 1).
        using (var response = await env.PostAsync(RoutingEnv.Body())) await Routed.OkAsync(response, "b/m-b", attempts: 2);

        var first = env['a'].Requests.Single().Headers["traceparent"].Split('-');
        var second = env['b'].Requests.Single().Headers["traceparent"].Split('-');
        Assert.Equal(first[1], second[1]);
        Assert.NotEqual(first[2], second[2]);
    }

    private static (string?, string?, string?, string?, int, string?) Describe(JsonElement a) => (
        a.GetProperty("provider").GetString(), a.GetProperty("upstream_model").GetString(), a.GetProperty("region").GetString(),
        a.GetProperty("error").GetString(), a.GetProperty("upstream_status").GetInt32(), a.GetProperty("next").GetString());
}
