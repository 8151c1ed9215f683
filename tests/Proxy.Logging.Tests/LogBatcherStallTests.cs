namespace Proxy.Logging.Tests;

/// <summary>A hung or failing sink shows as stalled once the batch at the head has waited past the upload timeout.</summary>
public class LogBatcherStallTests
{
    [Fact]
    public async Task A_hung_upload_is_reported_stalled_once_it_exceeds_the_upload_timeout_and_clears_on_success()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var sink = new HangingSink(dir.Sink);
        var batcher = new LogBatcher(sink, T.Options(dir) with
        {
            MaxRecords = 2,
            UploadTimeout = TimeSpan.FromSeconds(30),
            RetryInitialDelay = TimeSpan.FromSeconds(1),
            RetryMaxDelay = TimeSpan.FromSeconds(1),
        }, clock);
        batcher.TryWrite(T.Record(1));
        batcher.TryWrite(T.Record(2));
        T.WaitUntil(() => sink.Calls == 1, what: "the first upload");
        Assert.Equal(TimeSpan.Zero, batcher.StalledFor);
        Assert.Equal(TimeSpan.Zero, batcher.OldestPendingAge);
        Assert.Equal(1, batcher.SpoolPendingBatches);

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(TimeSpan.Zero, batcher.StalledFor);
        Assert.Equal(TimeSpan.FromSeconds(29), batcher.OldestPendingAge);

        // Past the timeout: the attempt is abandoned (and counted), and the batch is reported stalled at once...
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(31), batcher.StalledFor);
        T.WaitUntil(() => batcher.UploadFailures == 1 && batcher.Retrying, what: "the timed-out attempt");

        // ...and stays stalled through the retries, which hang too.
        T.WaitUntil(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            return sink.Calls == 2;
        }, what: "the retry");
        Assert.True(batcher.StalledFor > TimeSpan.FromSeconds(31));

        sink.Hanging = false;
        T.WaitUntil(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            return batcher.BatchesUploaded == 1;
        }, what: "the upload once the sink answers");
        T.WaitUntil(() => batcher.StalledFor == TimeSpan.Zero && batcher.OldestPendingAge == TimeSpan.Zero, what: "the stall to clear");
        Assert.False(batcher.Retrying);
        Assert.Equal(2, T.AllLines(dir.Sink).Count);
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
    }

    [Fact]
    public async Task A_backlog_that_drains_is_old_but_not_stalled()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero));
        LogBatcher? batcher = null;
        var samples = new List<(TimeSpan Stalled, TimeSpan Oldest)>();
        // Each upload takes 18 s of a 30 s timeout: five queued batches take 90 s, yet every one makes progress.
        var sink = new SlowSink(dir.Sink, clock, TimeSpan.FromSeconds(18), () => samples.Add((batcher!.StalledFor, batcher.OldestPendingAge)));
        batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 1, UploadTimeout = TimeSpan.FromSeconds(30) }, clock);
        for (var i = 0; i < 5; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        T.WaitUntil(() => sink.Waiting && batcher.Queued == 0, what: "the backlog behind the first upload");
        sink.Go();
        T.WaitUntil(() => batcher.BatchesUploaded == 5, what: "the backlog to drain");
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);

        Assert.Equal(5, samples.Count);
        Assert.All(samples, s => Assert.Equal(TimeSpan.Zero, s.Stalled));
        Assert.True(samples[^1].Oldest >= TimeSpan.FromSeconds(36), $"oldest pending {samples[^1].Oldest}");
        Assert.Equal(0, batcher.UploadFailures);
    }

    [Fact]
    public async Task The_upload_timeout_is_the_configured_one()
    {
        using var dir = new TempDir();
        var sink = new HangingSink(dir.Sink, hangs: 1);
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 1, UploadTimeout = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(TimeSpan.FromMilliseconds(300), batcher.UploadTimeout);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        batcher.TryWrite(T.Record(1));
        T.WaitUntil(() => batcher.UploadFailures == 1, what: "the timeout");
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(250), $"timed out after {sw.Elapsed}");
        T.WaitUntil(() => batcher.BatchesUploaded == 1, what: "the retry");
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
    }

    /// <summary>The first upload waits for <see cref="Go"/>; each one then moves the clock on by its duration.</summary>
    private sealed class SlowSink(string root, ManualClock clock, TimeSpan duration, Action afterEach) : ILogSink
    {
        private readonly LocalDirectorySink _inner = new(root);
        private readonly TaskCompletionSource _go = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _waiting;

        public string Name => "slow";

        public bool Waiting => _waiting;

        public void Go() => _go.SetResult();

        public async Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
        {
            _waiting = true;
            await _go.Task;
            clock.Advance(duration);
            afterEach();
            await _inner.UploadAsync(objectName, gzippedJsonLines, ct);
        }
    }
}
