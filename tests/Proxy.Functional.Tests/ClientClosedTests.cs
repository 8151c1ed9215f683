using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests;

/// <summary>
/// A client that gives up is recorded with the status it actually got: 499 when nothing was sent yet, the sent
/// status when its answer had begun; the request log and the metrics agree.
/// </summary>
public sealed class ClientClosedTests
{
    private const string Chat = "/v1/chat/completions";

    /// <summary>Roomy: on a busy machine the gateway can take seconds to see a client go; the upstreams hang longer.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ClientLeavesBeforeAnyAnswer_Recorded499ClientClosed_InLogAndMetrics()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, firstByteTimeout: "60s"));
        env.Upstream.Handler = ctx => Upstream.Hang(ctx, 45);
        using var cts = new CancellationTokenSource();

        var call = env.Gateway.Client.SendAsync(env.Gateway.Request(HttpMethod.Post, Chat, """{"model":"gpt-test","messages":[]}"""), cts.Token);
        var received = await env.Upstream.FirstRequest();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await received.Aborted.WaitAsync(Patience); // how soon is StreamFailureTests' business

        var metrics = await MetricsTests.ScrapeAsync(env.Gateway);
        (string, string)[] up = [("route", "gpt-test"), ("provider", "up"), ("model", "upstream-model")];
        Assert.Equal(1, metrics.Value("llm_gateway_requests_total", [.. up, ("status", "499"), ("error_class", "client_closed")]));
        Assert.Equal(1, metrics.Find("llm_gateway_requests_total", up).Sum(s => s.Value));
        await env.Gateway.StopAsync();
        var record = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory));
        Assert.Equal(499, record.GetProperty("status").GetInt32());
        Assert.Equal("client_closed", record.GetProperty("error_class").GetString());
    }

    [Fact]
    public async Task ClientLeavesMidStream_RecordedWithTheStatusItGot_InLogAndMetrics()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await Upstream.Send(ctx, Upstream.Event(Upstream.RoleChunk));
            await Task.Delay(TimeSpan.FromSeconds(45), ctx.RequestAborted);
        };

        var response = await env.Gateway.PostStreamingAsync(Chat, Streams.Body);
        var sse = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(Upstream.RoleChunk, await sse.NextDataAsync());
        var received = await env.Upstream.FirstRequest();
        sse.Dispose();
        response.Dispose();
        await received.Aborted.WaitAsync(Patience); // how soon is StreamFailureTests' business

        var metrics = await MetricsTests.ScrapeAsync(env.Gateway);
        (string, string)[] up = [("route", "gpt-test"), ("provider", "up"), ("model", "upstream-model")];
        Assert.Equal(1, metrics.Value("llm_gateway_requests_total", [.. up, ("status", "200"), ("error_class", "client_closed")]));
        Assert.Equal(1, metrics.Find("llm_gateway_requests_total", up).Sum(s => s.Value));
        await env.Gateway.StopAsync();
        var record = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory));
        Assert.Equal(200, record.GetProperty("status").GetInt32());
        Assert.Equal("client_closed", record.GetProperty("error_class").GetString());
    }
}
