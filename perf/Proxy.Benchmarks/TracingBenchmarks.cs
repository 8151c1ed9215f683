using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Proxy.Tracing;

namespace Proxy.Benchmarks;

/// <summary>
/// What tracing adds to a request in process: the same pipeline with nothing listening (the default) and with a
/// listener that records every span (as the OpenTelemetry SDK does when tracing is on; export is off the request path).
/// </summary>
[MemoryDiagnoser]
public class TracingBenchmarks
{
    private InProcessGateway _gateway = null!;
    private ActivityListener? _listener;

    [Params(false, true)]
    public bool Tracing { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gateway = new InProcessGateway();
        if (!Tracing) return;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == GatewayTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _gateway.Dispose();
    }

    [Benchmark]
    public Task<int> ChatPlain() => _gateway.SendAsync(InProcessGateway.ChatBody);

    [Benchmark]
    public Task<int> ChatStream() => _gateway.SendAsync(InProcessGateway.StreamBody);
}
