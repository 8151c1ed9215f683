using BenchmarkDotNet.Attributes;

namespace Proxy.Benchmarks;

/// <summary>The whole request path in process (auth, body, peek, route, splice, relay), plain and streamed.</summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private InProcessGateway _gateway = null!;
    private InProcessGateway _limited = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gateway = new InProcessGateway();
        _limited = new InProcessGateway(keyLines: InProcessGateway.AllLimits);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gateway.Dispose();
        _limited.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<int> HarnessOnly() => InProcessGateway.BaselineAsync(InProcessGateway.ChatBody);

    [Benchmark]
    public Task<int> ChatPlain() => _gateway.SendAsync(InProcessGateway.ChatBody);

    [Benchmark]
    public Task<int> ChatStream() => _gateway.SendAsync(InProcessGateway.StreamBody);

    /// <summary>ChatPlain with the key's requests, tokens and concurrency limited in memory: the limits stage's cost.</summary>
    [Benchmark]
    public Task<int> ChatPlainLimited() => _limited.SendAsync(InProcessGateway.ChatBody);
}
