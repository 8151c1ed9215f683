using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Proxy.Logging.Tests;

public partial class LogBatcherTests
{
    [GeneratedRegex(@"^requests/\d{4}/\d{2}/\d{2}/\d{2}/test-\d{14}-\d{8}\.jsonl\.gz$")]
    private static partial Regex ObjectNameShape();

    [Fact]
    public async Task Records_from_many_threads_arrive_exactly_once_as_json_lines()
    {
        using var dir = new TempDir();
        const int Threads = 8, PerThread = 5000;
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { MaxRecords = 500 });
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                // Retry only because the test wants every record; the gateway never retries.
                while (!batcher.TryWrite(T.Record(t * PerThread + i)))
                {
                    Thread.Yield();
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(T.Bound)));
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);

        var lines = T.AllLines(dir.Sink);
        Assert.Equal(Threads * PerThread, lines.Count);
        var ids = T.RequestIds(lines);
        Assert.Equal(Enumerable.Range(0, Threads * PerThread).Select(i => T.Record(i).RequestId).Order(), ids.Order());
        Assert.Equal(Threads * PerThread, batcher.Enqueued);
        Assert.Equal(batcher.BatchesUploaded, T.ObjectFiles(dir.Sink).Count);
        Assert.True(batcher.BytesUploaded > 0);
        Assert.Equal(0, batcher.UploadFailures);

        var documented = new[]
        {
            "schema_version", "request_id", "started_at", "operation", "client_api", "key_id", "route", "provider", "upstream_model", "region",
            "status", "error_class", "upstream_error", "stream", "usage", "cost_usd", "attempts", "latency_us", "request_body", "response_body",
            "bodies_truncated", "instance",
        };
        foreach (var line in lines.Take(50))
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(documented, doc.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(batcher.InstanceId, doc.RootElement.GetProperty("instance").GetString());
        }
    }

    [Fact]
    public async Task Cuts_by_count()
    {
        using var dir = new TempDir();
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { MaxRecords = 10 });
        for (var i = 0; i < 35; i++)
        {
            Assert.True(batcher.TryWrite(T.Record(i)));
        }

        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        var counts = T.ObjectFiles(dir.Sink).Select(f => T.Lines(File.ReadAllBytes(f)).Count).ToList();
        Assert.Equal([10, 10, 10, 5], counts);
    }

    [Fact]
    public async Task Cuts_by_uncompressed_bytes()
    {
        using var dir = new TempDir();
        const int MaxBytes = 4000;
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { MaxBytes = MaxBytes });
        for (var i = 0; i < 100; i++)
        {
            Assert.True(batcher.TryWrite(T.Record(i)));
        }

        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        var sizes = T.ObjectFiles(dir.Sink).Select(f => T.Gunzip(File.ReadAllBytes(f)).Length).ToList();
        var lineSize = T.Gunzip(File.ReadAllBytes(T.ObjectFiles(dir.Sink)[0])).Split('\n')[0].Length + 1;
        Assert.True(sizes.Count > 5, $"only {sizes.Count} objects");
        // Every object but the last reached the threshold, and none overshot it by a whole record.
        Assert.All(sizes[..^1], s => Assert.InRange(s, MaxBytes, MaxBytes + lineSize + 16));
        Assert.Equal(100, T.AllLines(dir.Sink).Count);
    }

    [Fact]
    public async Task Cuts_by_age_without_more_traffic()
    {
        using var dir = new TempDir();
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink),
            T.Options(dir) with { MaxAge = TimeSpan.FromMilliseconds(200) });
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        T.WaitUntil(() => T.ObjectFiles(dir.Sink).Count == 1, what: "the age cut");
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(150), $"cut after {sw.Elapsed}");
        Assert.Equal(3, T.AllLines(dir.Sink).Count);

        // A second, later batch gets its own object.
        batcher.TryWrite(T.Record(3));
        T.WaitUntil(() => T.ObjectFiles(dir.Sink).Count == 2, what: "the second age cut");
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(4, T.AllLines(dir.Sink).Count);
    }

    [Fact]
    public async Task Age_cut_follows_the_injected_clock()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { MaxAge = TimeSpan.FromSeconds(5) }, clock);
        batcher.TryWrite(T.Record(1));
        batcher.TryWrite(T.Record(2));

        // Real time passing does not cut the batch...
        Thread.Sleep(300);
        Assert.Empty(T.ObjectFiles(dir.Sink));

        // ...the clock does. (Advanced in steps: the worker may not have opened the batch yet.)
        T.WaitUntil(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            return T.ObjectFiles(dir.Sink).Count == 1;
        }, what: "the age cut on the manual clock");
        Assert.Equal(2, T.AllLines(dir.Sink).Count);
        Assert.Equal("test-20260506070809", batcher.InstanceId);
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
    }

    [Fact]
    public async Task Object_names_have_the_documented_shape_and_never_repeat()
    {
        using var dir = new TempDir();
        var sink = new ControlledSink(dir.Sink);
        var hour = new DateTimeOffset(2026, 7, 8, 9, 59, 59, TimeSpan.Zero);
        var names = new List<string>();

        // Two runs of the same configured instance (a restarted pod) must not reuse names.
        foreach (var start in new[] { new DateTimeOffset(2026, 7, 8, 9, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 7, 8, 9, 0, 1, TimeSpan.Zero) })
        {
            var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 3 }, new FixedClock(start));
            Assert.Equal("test-" + start.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture), batcher.InstanceId);
            for (var i = 0; i < 10; i++)
            {
                batcher.TryWrite(T.Record(i, hour.AddSeconds(i)));
            }

            await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        }

        names.AddRange(sink.Uploaded);
        Assert.Equal(8, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches(ObjectNameShape(), n));
        // The hour is the batch's FIRST record's: records 0-2 start at 09:59:59-10:00:01, all in hour 09.
        Assert.StartsWith("requests/2026/07/08/09/test-20260708090000-00000001", names[0]);
        Assert.StartsWith("requests/2026/07/08/10/test-20260708090000-00000002", names[1]);
        Assert.EndsWith("-00000004.jsonl.gz", names[3]);
    }

    [Fact]
    public async Task Instance_is_sanitized_into_a_safe_path_segment()
    {
        using var dir = new TempDir();
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { Instance = "pod/1 é:x" },
            new FixedClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal("pod-1---x-20260101000000", batcher.InstanceId);
        await batcher.DisposeAsync();
    }

    [Fact]
    public async Task Queue_full_drops_are_counted_and_TryWrite_never_blocks()
    {
        using var dir = new TempDir();
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { QueueCapacity = 1024 });
        var gate = new TaskCompletionSource();
        batcher.ConsumerGate = gate.Task; // The consumer is stuck: nothing leaves the queue.
        var record = T.Record(1);

        const int Calls = 1_000_000;
        var accepted = 0;
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < Calls; i++)
        {
            if (batcher.TryWrite(record))
            {
                accepted++;
            }
        }

        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"1M TryWrite took {sw.Elapsed}");
        Assert.Equal(1024, accepted);
        Assert.Equal(1024, batcher.Enqueued);
        Assert.Equal(Calls - 1024, batcher.Dropped);

        gate.SetResult();
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(1024, T.AllLines(dir.Sink).Count);
    }

    [Fact]
    public async Task After_stop_TryWrite_refuses_and_counts()
    {
        using var dir = new TempDir();
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir));
        Assert.True(batcher.TryWrite(T.Record(1)));
        await batcher.StopAsync().WaitAsync(T.Bound);
        Assert.False(batcher.TryWrite(T.Record(2)));
        Assert.Equal(1, batcher.Dropped);
        await batcher.DisposeAsync(); // Idempotent after StopAsync.
        Assert.Single(T.AllLines(dir.Sink));
    }

    [Fact]
    public async Task Credentials_never_appear_in_lines()
    {
        using var dir = new TempDir();
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir));
        for (var i = 0; i < 20; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        var lines = T.AllLines(dir.Sink);
        Assert.Equal(20, lines.Count);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            AssertNoCredentialFields(doc.RootElement);
            Assert.DoesNotContain("authorization", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("api_key", line, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static void AssertNoCredentialFields(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in element.EnumerateObject())
            {
                Assert.DoesNotContain(p.Name.ToLowerInvariant(), new[] { "authorization", "api_key", "apikey", "x-api-key", "key" });
                AssertNoCredentialFields(p.Value);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                AssertNoCredentialFields(item);
            }
        }
    }
}
