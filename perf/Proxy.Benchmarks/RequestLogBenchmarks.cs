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

    internal sealed class DiscardSink : ILogSink
    {
        public string Name => "discard";

        public Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct) => Task.CompletedTask;
    }
}

/// <summary>
/// The batcher's worker, end to end: 200,000 metadata-only records serialized to JSON lines, gzipped, cut into
/// objects and handed to a sink that discards them. One worker thread does all of it, so records per second here
/// is what one core sustains. Mean time per operation is per record (wall time, producer included). The
/// process's CPU time per record (every thread: producer, worker, upload loop, kernel time of the spool's
/// writes) is printed at cleanup, because wall time hides the upload loop's work and includes its disk waits.
/// </summary>
[MemoryDiagnoser]
public class BatcherThroughputBenchmarks
{
    private const int Records = 200_000;
    private RequestRecord[] _records = null!;
    private string _spool = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spool = Directory.CreateTempSubdirectory("bench-spool-").FullName;
        _records = Enumerable.Range(0, Records).Select(i => new RequestRecord
        {
            RequestId = "req_" + i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture),
            StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(i),
            Operation = "chat.completions",
            KeyId = "team-a",
            Route = "gpt-4o-mini",
            Provider = "openai",
            UpstreamModel = "gpt-4o-mini-2024-07-18",
            Status = 200,
            Stream = i % 3 == 0,
            PromptTokens = 20 + i % 100,
            CompletionTokens = i % 500,
            UsageReported = true,
            TotalUs = 1234 + i % 1000,
            UpstreamTtfbUs = 1000,
            TtftUs = 900,
            GatewayOverheadUs = 234,
        }).ToArray();
    }

    private TimeSpan _cpu;
    private long _cpuRecords;

    [GlobalCleanup]
    public void Cleanup()
    {
        Directory.Delete(_spool, recursive: true);
        if (_cpuRecords > 0)
        {
            Console.WriteLine(System.FormattableString.Invariant(
                $"// CPU per record (process, all threads): {_cpu.TotalMicroseconds / _cpuRecords:F3} us over {_cpuRecords} records"));
        }
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public async Task SerializeGzipAndUpload()
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var batcher = new LogBatcher(new RequestLogBenchmarks.DiscardSink(), new LogBatcherOptions { SpoolDirectory = _spool, QueueCapacity = 1 << 18 });
        foreach (var r in _records) batcher.TryWrite(r);
        await batcher.StopAsync();
        await batcher.DisposeAsync();
        if (batcher.Dropped > 0 || batcher.Enqueued != Records) throw new InvalidOperationException($"dropped {batcher.Dropped} of {Records}");
        _cpu += System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        _cpuRecords += Records;
    }
}
