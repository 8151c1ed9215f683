using BenchmarkDotNet.Attributes;
using Proxy.Accounting;
using Proxy.Logging;

namespace Proxy.Benchmarks;

/// <summary>
/// What the request path pays for the log: building one record and handing it to the real batcher. The
/// batcher's worker serializes and gzips in the background; its sink here discards the bytes.
/// </summary>
[MemoryDiagnoser]
public class RequestLogBenchmarks
{
    private LogBatcher _batcher = null!;
    private string _spool = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spool = Directory.CreateTempSubdirectory("bench-spool-").FullName;
        _batcher = new LogBatcher(new DiscardSink(), new LogBatcherOptions { SpoolDirectory = _spool });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_spool, recursive: true);
    }

    [Benchmark]
    public bool ProduceAndEnqueueRecord() => _batcher.TryWrite(new RequestRecord
    {
        RequestId = "req_0123456789abcdef0123456789abcdef",
        StartedAt = DateTimeOffset.UnixEpoch,
        Operation = "chat.completions",
        KeyId = "team-a",
        Route = "gpt-4o-mini",
        Provider = "openai",
        UpstreamModel = "gpt-4o-mini",
        Status = 200,
        PromptTokens = 20,
        CompletionTokens = 2,
        UsageReported = true,
        TotalUs = 1234,
        UpstreamTtfbUs = 1000,
        GatewayOverheadUs = 234,
    });

    private sealed class DiscardSink : ILogSink
    {
        public string Name => "discard";

        public Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct) => Task.CompletedTask;
    }
}
