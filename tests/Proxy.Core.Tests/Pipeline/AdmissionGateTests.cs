using Proxy.Config;
using Proxy.Pipeline;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>The concurrency cap: the gate's arithmetic, and the handler taking and releasing a slot however a request ends.</summary>
public sealed class AdmissionGateTests
{
    private static readonly ServerSettings Auto = new();

    private static AdmissionGate Gate(int automatic = 0)
    {
        var config = ConfigLoaderTests.Parse(ConfigLoaderTests.Valid);
        foreach (var p in config.Providers.Values) p.Adapter.Dispose();
        return new AdmissionGate(new ConfigHolder(config)) { AutomaticLimit = automatic };
    }

    [Fact]
    public void Enter_UpToTheCap_ThenRefuses_AndExitFreesASlot()
    {
        var gate = Gate();
        var two = new ServerSettings { MaxConcurrentRequests = 2 };
        Assert.True(gate.TryEnter(two));
        Assert.True(gate.TryEnter(two));
        Assert.False(gate.TryEnter(two));
        Assert.Equal(2, gate.InFlight);
        gate.Exit();
        Assert.True(gate.TryEnter(two));
        Assert.False(gate.TryEnter(two));
    }

    [Fact]
    public void Auto_UsesTheLimitFromDescriptors_AndZeroMeansNoCap()
    {
        var gate = Gate(automatic: 1);
        Assert.True(gate.TryEnter(Auto));
        Assert.False(gate.TryEnter(Auto));
        var unlimited = new ServerSettings { MaxConcurrentRequests = 0 };
        for (int i = 0; i < 1000; i++) Assert.True(gate.TryEnter(unlimited));
        Assert.Equal(1001, gate.InFlight);
        // A reload that lowers the cap refuses new requests until enough in flight have finished.
        Assert.False(gate.TryEnter(new ServerSettings { MaxConcurrentRequests = 5 }));
    }

    [Theory]
    [InlineData(20_000, 25, 8_737)]  // the replica: (20,000 - 25 - 2,500) / 2
    [InlineData(1_024, 30, 433)]     // (1,024 - 30 - 128) / 2
    [InlineData(256, 200, 1)]        // less room than the headroom: one request at a time rather than none
    [InlineData(0, 0, 0)]            // unknown: no automatic cap
    [InlineData(long.MaxValue, 10, 0)]
    public void ForDescriptors_LeavesHeadroom_AndTwoPerRequest(long limit, long open, int expected) =>
        Assert.Equal(expected, AdmissionGate.ForDescriptors(limit, open));

    [Fact]
    public async Task ConcurrentEntries_NeverExceedTheCap()
    {
        var gate = Gate();
        var cap = new ServerSettings { MaxConcurrentRequests = 3 };
        long inside = 0, most = 0, admitted = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                if (!gate.TryEnter(cap)) continue;
                long now = Interlocked.Increment(ref inside);
                long seen;
                while ((seen = Interlocked.Read(ref most)) < now && Interlocked.CompareExchange(ref most, now, seen) != seen)
                {
                }
                Interlocked.Increment(ref admitted);
                Interlocked.Decrement(ref inside);
                gate.Exit();
            }
        }));
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.InRange(Interlocked.Read(ref most), 1, 3);
        Assert.True(Interlocked.Read(ref admitted) > 0);
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task AtTheCap_Refused503_GatewayOverloaded_WithRetryAfter_Counted_AndRecorded()
    {
        using var gw = new ScriptedGateway(server: "server:\n  max_concurrent_requests: 1");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gw.Upstream = async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return ScriptedGateway.Ok();
        };
        var held = gw.SendAsync();
        await WaitUntil(() => gw.Calls == 1);

        var body = new MemoryStream();
        var refused = await gw.SendAsync(responseBody: body);

        Assert.Equal(503, refused.Response.StatusCode);
        Assert.Equal("1", refused.Response.Headers.RetryAfter.ToString());
        Assert.Equal("close", refused.Response.Headers.Connection.ToString());
        Assert.False(string.IsNullOrEmpty(refused.Response.Headers["x-request-id"].ToString()));
        var error = System.Text.Json.JsonDocument.Parse(body.ToArray()).RootElement.GetProperty("error");
        Assert.Equal("gateway_overloaded", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(1, gw.Calls); // refused before any upstream work
        var record = Assert.Single(gw.Log.Records);
        Assert.Equal(503, record.Status);
        Assert.Equal("gateway_overloaded", record.ErrorClass);
        var scrape = gw.Scrape();
        Assert.Contains("llm_gateway_requests_rejected_total{reason=\"overloaded\"} 1", scrape, StringComparison.Ordinal);
        Assert.Contains("error_class=\"gateway_overloaded\"} 1", scrape, StringComparison.Ordinal);

        release.SetResult();
        Assert.Equal(200, (await held).Response.StatusCode);
        Assert.Equal(0, gw.Gate.InFlight);
        Assert.Equal(200, (await gw.SendAsync()).Response.StatusCode);
    }

    [Fact]
    public async Task SlotIsReleased_WhenTheClientAborts()
    {
        using var gw = new ScriptedGateway(server: "server:\n  max_concurrent_requests: 1");
        gw.Upstream = async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return ScriptedGateway.Ok();
        };
        using var abort = new CancellationTokenSource();
        var aborted = gw.SendAsync(aborted: abort.Token);
        await WaitUntil(() => gw.Calls == 1);
        Assert.Equal(1, gw.Gate.InFlight);

        abort.Cancel();
        await aborted.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, gw.Gate.InFlight);
        Assert.Equal("client_closed", gw.Log.Records.Single().ErrorClass);
        gw.Upstream = (_, _) => Task.FromResult(ScriptedGateway.Ok());
        Assert.Equal(200, (await gw.SendAsync()).Response.StatusCode);
    }

    [Fact]
    public async Task SlotIsReleased_WhenWritingTheAnswerThrows()
    {
        using var gw = new ScriptedGateway(server: "server:\n  max_concurrent_requests: 1");
        await Assert.ThrowsAsync<IOException>(() => gw.SendAsync(responseBody: new BrokenStream()));
        Assert.Equal(0, gw.Gate.InFlight);
        Assert.Equal(200, (await gw.SendAsync()).Response.StatusCode);
    }

    [Fact]
    public async Task RefusedRequests_NeverHoldASlot()
    {
        using var gw = new ScriptedGateway(server: "server:\n  max_concurrent_requests: 1");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gw.Upstream = async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return ScriptedGateway.Ok();
        };
        var held = gw.SendAsync();
        await WaitUntil(() => gw.Calls == 1);
        for (int i = 0; i < 50; i++) Assert.Equal(503, (await gw.SendAsync()).Response.StatusCode);
        Assert.Equal(1, gw.Gate.InFlight);
        release.SetResult();
        await held;
        Assert.Equal(0, gw.Gate.InFlight);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the condition");
            await Task.Delay(5);
        }
    }

    /// <summary>A client connection that fails on the first write, as a reset one does.</summary>
    private sealed class BrokenStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("connection reset");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("connection reset"));

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException(new IOException("connection reset"));
    }
}
