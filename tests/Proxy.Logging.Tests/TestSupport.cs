using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Proxy.Accounting;

namespace Proxy.Logging.Tests;

/// <summary>A temp directory per test with a sink root and a spool under it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "proxy-logging-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sink => System.IO.Path.Combine(Path, "sink");

    public string Spool => System.IO.Path.Combine(Path, "spool");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class T
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    public static RequestRecord Record(int i, DateTimeOffset? started = null, string? requestBody = null, string? responseBody = null) => new()
    {
        RequestId = "req-" + i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        StartedAt = started ?? DateTimeOffset.UtcNow,
        Operation = "chat.completions",
        KeyId = "key-1",
        Route = "gpt-test",
        Provider = "openai",
        UpstreamModel = "gpt-4o-mini",
        Status = 200,
        Stream = i % 2 == 0,
        PromptTokens = 10 + i,
        CompletionTokens = 20,
        CachedTokens = 3,
        UsageReported = true,
        TotalUs = 1500,
        UpstreamTtfbUs = 1000,
        TtftUs = 1100,
        GatewayOverheadUs = 120,
        RequestBody = Encoding.UTF8.GetBytes(requestBody ?? "{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        ResponseBody = Encoding.UTF8.GetBytes(responseBody ?? "data: {\"x\":1}\n\ndata: [DONE]\n\n"),
    };

    public static LogBatcherOptions Options(TempDir dir) => new()
    {
        SpoolDirectory = dir.Spool,
        Instance = "test",
        RetryInitialDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        UploadTimeout = TimeSpan.FromSeconds(5),
        ShutdownDeadline = TimeSpan.FromSeconds(10),
    };

    public static List<string> ObjectFiles(string root) =>
        !Directory.Exists(root)
            ? []
            : Directory.EnumerateFiles(root, "*.jsonl.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    public static string Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public static List<string> Lines(byte[] gz) =>
        Gunzip(gz).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    public static List<string> AllLines(string root) =>
        ObjectFiles(root).SelectMany(f => Lines(File.ReadAllBytes(f))).ToList();

    /// <summary>
    /// Lines of the objects in the sink and the spool, each object name counted once: a batch that timed out
    /// just as it landed can be in both, and re-uploading the spooled copy overwrites the same object.
    /// </summary>
    public static List<string> LinesByObject(params string[] roots)
    {
        var byName = new Dictionary<string, List<string>>();
        foreach (var root in roots)
        {
            foreach (var file in ObjectFiles(root))
            {
                byName.TryAdd(System.IO.Path.GetRelativePath(root, file), Lines(File.ReadAllBytes(file)));
            }
        }

        return byName.Values.SelectMany(l => l).ToList();
    }

    public static List<string> RequestIds(IEnumerable<string> lines) =>
        lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("request_id").GetString()!).ToList();

    public static void WaitUntil(Func<bool> condition, TimeSpan? timeout = null, string? what = null)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > (timeout ?? Bound))
            {
                Assert.Fail("Timed out waiting for " + (what ?? "condition"));
            }

            Thread.Sleep(10);
        }
    }
}

/// <summary>A local sink that records calls and can fail on demand: for the first K calls, or while Failing.</summary>
internal sealed class ControlledSink(string root) : ILogSink
{
    private readonly LocalDirectorySink _inner = new(root);
    private int _calls;
    private int _failFirst;

    public string Name => "controlled";

    public volatile bool Failing;

    public int FailFirst { get => _failFirst; set => _failFirst = value; }

    public int Calls => Volatile.Read(ref _calls);

    public TimeSpan Delay { get; set; }

    /// <summary>Object names of successful uploads, in order.</summary>
    public List<string> Uploaded { get; } = [];

    public async Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, ct);
        }

        if (Failing || Interlocked.Decrement(ref _failFirst) >= 0)
        {
            throw new IOException("sink down");
        }

        await _inner.UploadAsync(objectName, gzippedJsonLines, ct);
        lock (Uploaded)
        {
            Uploaded.Add(objectName);
        }
    }
}

/// <summary>Never completes while Hanging (and ignores its token), like a stuck connection.</summary>
internal sealed class HangingSink(string root) : ILogSink
{
    private readonly LocalDirectorySink _inner = new(root);
    private readonly TaskCompletionSource _never = new();

    private readonly bool _counted;
    private int _hangsLeft;

    /// <param name="hangs">How many uploads hang before the sink works; without it, every one while Hanging.</param>
    public HangingSink(string root, int hangs) : this(root)
    {
        _counted = true;
        _hangsLeft = hangs;
    }

    private int _calls;

    public volatile bool Hanging = true;

    public string Name => "hanging";

    public int Calls => Volatile.Read(ref _calls);

    // A count, not a flag the test flips: a retry that starts before the test reacts must not hang a second time.
    public Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        return Hanging && (!_counted || Interlocked.Decrement(ref _hangsLeft) >= 0)
            ? _never.Task
            : _inner.UploadAsync(objectName, gzippedJsonLines, ct);
    }
}

/// <summary>A TimeProvider whose wall clock is fixed (timers and timestamps stay real).</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
