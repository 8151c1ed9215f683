using System.Diagnostics;

namespace Proxy.Logging.Tests;

public class LogBatcherFailureTests
{
    private static int SequenceOf(string objectName) =>
        int.Parse(objectName[^17..^9], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Outage_spools_batches_and_uploads_them_in_order_on_recovery()
    {
        using var dir = new TempDir();
        var sink = new ControlledSink(dir.Sink) { Failing = true };
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 5 });

        for (var i = 0; i < 50; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        // Every batch enters the spool before its first upload attempt, so the failures may come after the count.
        T.WaitUntil(() => batcher.SpoolPendingBatches == 10 && batcher.UploadFailures > 0, what: "all batches spooled and uploads failing");
        Assert.Empty(T.ObjectFiles(dir.Sink));
        Assert.Equal(10, T.ObjectFiles(dir.Spool).Count);

        // New batches keep coming during the outage.
        for (var i = 50; i < 60; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        T.WaitUntil(() => batcher.SpoolPendingBatches == 12, what: "later batches spooled");
        sink.Failing = false;
        T.WaitUntil(() => batcher.SpoolPendingBatches == 0, what: "the spool to drain");
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);

        Assert.Equal(60, T.AllLines(dir.Sink).Count);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => T.Record(i).RequestId), T.RequestIds(T.AllLines(dir.Sink)).Order());
        Assert.Equal(sink.Uploaded.Select(SequenceOf).Order(), sink.Uploaded.Select(SequenceOf));
        Assert.Equal(12, batcher.SpooledBatches);
        Assert.Equal(0, batcher.SpoolDroppedBatches);
        Assert.Empty(T.ObjectFiles(dir.Spool));
    }

    [Fact]
    public async Task Sink_failing_the_first_calls_loses_nothing()
    {
        using var dir = new TempDir();
        var sink = new ControlledSink(dir.Sink) { FailFirst = 3 };
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 7 });
        for (var i = 0; i < 100; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        // Shutdown keeps retrying (with backoff) until the deadline, so everything reaches the sink.
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(100, T.AllLines(dir.Sink).Count);
        Assert.Empty(T.ObjectFiles(dir.Spool));
        Assert.Equal(3, batcher.UploadFailures);
    }

    [Fact]
    public async Task Restart_uploads_a_leftover_spool_first()
    {
        using var dir = new TempDir();

        // First run: the sink is down for the whole life of the process; shutdown leaves everything in the spool.
        var down = new ControlledSink(dir.Sink) { Failing = true };
        var first = new LogBatcher(down, T.Options(dir) with { MaxRecords = 4, ShutdownDeadline = TimeSpan.FromMilliseconds(500) });
        for (var i = 0; i < 10; i++)
        {
            first.TryWrite(T.Record(i));
        }

        await first.DisposeAsync().AsTask().WaitAsync(T.Bound);
        var spooled = T.ObjectFiles(dir.Spool);
        Assert.Equal(3, spooled.Count);
        // A crash mid-write leaves a temp file: it must be ignored.
        await File.WriteAllBytesAsync(spooled[0] + ".abcd1234.tmp", new byte[] { 1, 2 });

        // Second run: the sink works; new records are written straight away but the spool goes first.
        var up = new ControlledSink(dir.Sink);
        var second = new LogBatcher(up, T.Options(dir) with { MaxRecords = 4, Instance = "other" });
        for (var i = 10; i < 14; i++)
        {
            second.TryWrite(T.Record(i));
        }

        await second.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(4, up.Uploaded.Count);
        Assert.All(up.Uploaded.Take(3), n => Assert.Contains("/test-", n));
        Assert.Contains("/other-", up.Uploaded[3]);
        Assert.Equal(14, T.AllLines(dir.Sink).Count);
        Assert.Empty(Directory.EnumerateFiles(dir.Spool, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Hanging_sink_is_timed_out_and_the_batch_retried()
    {
        using var dir = new TempDir();
        var sink = new HangingSink(dir.Sink, hangs: 1);
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 2, UploadTimeout = TimeSpan.FromMilliseconds(200) });
        batcher.TryWrite(T.Record(1));
        batcher.TryWrite(T.Record(2));

        // The failure is counted first, then the batch is spooled.
        T.WaitUntil(() => batcher.UploadFailures >= 1, what: "the upload timeout");
        T.WaitUntil(() => batcher.SpoolPendingBatches == 0, what: "the retry");
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(2, T.AllLines(dir.Sink).Count);
        Assert.Equal(1, batcher.UploadFailures);
    }

    [Fact]
    public async Task Shutdown_with_a_hung_sink_meets_the_deadline_and_keeps_everything_in_the_spool()
    {
        using var dir = new TempDir();
        var sink = new HangingSink(dir.Sink);
        var batcher = new LogBatcher(sink, T.Options(dir) with
        {
            MaxRecords = 10,
            UploadTimeout = TimeSpan.FromSeconds(30),
            ShutdownDeadline = TimeSpan.FromMilliseconds(500),
        });
        for (var i = 0; i < 95; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        var sw = Stopwatch.StartNew();
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        // The deadline is 0.5 s and the hung upload's own timeout 30 s: a bound between them, with room for a loaded machine.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {sw.Elapsed}");
        Assert.Equal(95, T.AllLines(dir.Spool).Count);
        Assert.Equal(10, batcher.SpoolPendingBatches);
    }

    [Fact]
    public async Task Shutdown_drains_everything_into_the_sink_or_the_spool_within_the_deadline()
    {
        using var dir = new TempDir();
        // Slow sink: 200 ms per object, 100 objects (20 s to upload them all, one at a time), 1 s deadline: some are
        // uploaded, the rest spooled. The gap between the deadline and 20 s leaves a loaded machine room.
        var sink = new ControlledSink(dir.Sink) { Delay = TimeSpan.FromMilliseconds(200) };
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 10, ShutdownDeadline = TimeSpan.FromSeconds(1) });
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(batcher.TryWrite(T.Record(i)));
        }

        var sw = Stopwatch.StartNew();
        await batcher.StopAsync().WaitAsync(T.Bound);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {sw.Elapsed}");
        var inSink = T.AllLines(dir.Sink);
        var inSpool = T.AllLines(dir.Spool);
        Assert.NotEmpty(inSink);
        Assert.NotEmpty(inSpool);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => T.Record(i).RequestId), T.RequestIds(T.LinesByObject(dir.Sink, dir.Spool)).Order());
        await batcher.DisposeAsync();
    }

    [Fact]
    public async Task Full_spool_drops_the_oldest_batches_and_counts_them()
    {
        using var dir = new TempDir();
        var sink = new ControlledSink(dir.Sink) { Failing = true };
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 5, MaxSpoolBytes = 2000, ShutdownDeadline = TimeSpan.FromMilliseconds(300) });
        for (var i = 0; i < 100; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        T.WaitUntil(() => batcher.SpooledBatches + batcher.SpoolDroppedBatches >= 20 && batcher.SpoolDroppedBatches > 0, what: "spool drops");
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.True(batcher.SpoolPendingBytes <= 2000);
        var kept = T.RequestIds(T.AllLines(dir.Spool));
        Assert.Equal(kept.Count, batcher.SpoolPendingBatches * 5);
        // The newest records survive; the oldest went first.
        Assert.Contains(T.Record(99).RequestId, kept);
        Assert.DoesNotContain(T.Record(0).RequestId, kept);
        Assert.Equal(20, batcher.SpoolPendingBatches + batcher.SpoolDroppedBatches);
    }
}
