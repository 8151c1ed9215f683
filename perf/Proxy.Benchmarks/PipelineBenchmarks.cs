using BenchmarkDotNet.Attributes;

namespace Proxy.Benchmarks;

/// <summary>The whole request path in process (auth, body, peek, route, splice, relay), plain and streamed.</summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private InProcessGateway _gateway = null!;

    [GlobalSetup]
    public void Setup() => _gateway = new InProcessGateway();

    [GlobalCleanup]
    public void Cleanup() => _gateway.Dispose();

    [Benchmark(Baseline = true)]
    public Task<int> HarnessOnly() => InProcessGateway.BaselineAsync(InProcessGateway.ChatBody);

    [Benchmark]
    public Task<int> ChatPlain() => _gateway.SendAsync(InProcessGateway.ChatBody);

    [Benchmark]
    public Task<int> ChatStream() => _gateway.SendAsync(InProcessGateway.StreamBody);
}
