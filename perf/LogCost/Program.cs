using System.Diagnostics;
using System.Globalization;
using Proxy.Accounting;
using Proxy.Logging;

// What the request log costs the process per record, all work included: building the record, the hand-off,
// the worker's wake-ups, JSON encoding, gzip, the journal's writes, the spool and the local sink's files.
// Producers hand records over at a steady rate from several threads, as request completions do in the gateway;
// a second run does the same pacing without the log, and the difference in process CPU time (user + system) is
// the log's. Wall-clock timing would hide the background work; this counts it.
//
//   dotnet run -c Release --project perf/LogCost -- [--rate 10000] [--seconds 10] [--threads 4] [--max-records N]
var rate = Arg("--rate", 10_000);
var seconds = Arg("--seconds", 10);
var threads = Arg("--threads", 4);
var flushMs = Arg("--flush-ms", 100);
var maxRecords = Arg("--max-records", new LogBatcherOptions().MaxRecords); // records per batch (object); the default is the gateway's
var discard = args.Contains("--discard"); // The sink drops the objects: what the log costs without the local sink's writes.

var rounds = Arg("--rounds", 3);

// A short run first so that JIT tiering is done before anything is counted; then off and on alternate, and the
// median of the rounds' differences is reported (the machine's noise hits both halves of a round alike).
Run(log: true, warmUp: true);
var costs = new List<double>();
var lost = false;
for (var round = 1; round <= rounds; round++)
{
    var off = Run(log: false);
    var on = Run(log: true);
    var perRecordUs = (on.Cpu - off.Cpu).TotalMicroseconds / on.Records;
    costs.Add(perRecordUs);
    lost |= on.Stored != on.Records;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round}: log off {off.Cpu.TotalMilliseconds:F0} ms CPU, log on {on.Cpu.TotalMilliseconds:F0} ms CPU, {on.Records} records ({on.Stored} stored, {on.Dropped} dropped): {perRecordUs:F2} us/record"));
}

costs.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"request log CPU per record at {rate}/s from {threads} producers: median {costs[costs.Count / 2]:F2} us (rounds: {string.Join(", ", costs.Select(c => c.ToString("F2", CultureInfo.InvariantCulture)))})"));
return lost ? 1 : 0;

(TimeSpan Cpu, long Records, long Stored, long Dropped) Run(bool log, bool warmUp = false)
{
    var root = Directory.CreateTempSubdirectory("log-cost-").FullName;
    try
    {
        ILogSink sink = discard ? new CountingSink() : new LocalDirectorySink(Path.Combine(root, "logs"));
        var batcher = new LogBatcher(sink,
            new LogBatcherOptions { SpoolDirectory = Path.Combine(root, "spool"), Instance = "log-cost", FlushInterval = TimeSpan.FromMilliseconds(flushMs), MaxRecords = maxRecords });
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var gcs = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var written = 0L;
        var producers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            // Each producer keeps to its share of the rate, a few records per millisecond, like request completions.
            var share = (double)rate / threads;
            var clock = Stopwatch.StartNew();
            var sent = 0L;
            var total = (long)(share * (warmUp ? 5 : seconds));
            while (sent < total)
            {
                var due = Math.Min(total, (long)(clock.Elapsed.TotalSeconds * share));
                for (; sent < due; sent++)
                {
                    var record = Record(t, sent);
                    if (log)
                    {
                        batcher.TryWrite(record);
                    }
                    else
                    {
                        GC.KeepAlive(record);
                    }
                }

                Thread.Sleep(1);
            }

            Interlocked.Add(ref written, sent);
        })).ToList();
        producers.ForEach(p => p.Start());
        producers.ForEach(p => p.Join());
        batcher.StopAsync().GetAwaiter().GetResult();
        process.Refresh();
        var used = process.TotalProcessorTime - cpu;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  log {(log ? "on " : "off")}: {used.TotalMilliseconds:F0} ms CPU, GCs gen0/1/2 {GC.CollectionCount(0) - gcs.Item1}/{GC.CollectionCount(1) - gcs.Item2}/{GC.CollectionCount(2) - gcs.Item3}"));
        var stored = !log ? 0 : sink is CountingSink counting ? counting.Lines : Directory.EnumerateFiles(Path.Combine(root, "logs"), "*.jsonl.gz", SearchOption.AllDirectories)
            .Sum(f => CountLines(f));
        var dropped = batcher.Dropped;
        batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return (used, written, stored, dropped);
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
}

static RequestRecord Record(int producer, long i) => new()
{
    RequestId = string.Create(CultureInfo.InvariantCulture, $"req_{producer:x4}{i:x28}"),
    StartedAt = DateTimeOffset.UtcNow,
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
};

static long CountLines(string gz)
{
    using var stream = new System.IO.Compression.GZipStream(File.OpenRead(gz), System.IO.Compression.CompressionMode.Decompress);
    using var reader = new StreamReader(stream);
    var n = 0L;
    while (reader.ReadLine() is not null)
    {
        n++;
    }

    return n;
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>Counts the lines of each object (the check that nothing was lost) and keeps nothing.</summary>
internal sealed class CountingSink : ILogSink
{
    public long Lines;

    public string Name => "discard";

    public Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(gzippedJsonLines.ToArray()), System.IO.Compression.CompressionMode.Decompress);
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = gzip.Read(buffer)) > 0)
        {
            Lines += buffer.AsSpan(0, n).Count((byte)'\n');
        }

        return Task.CompletedTask;
    }
}
