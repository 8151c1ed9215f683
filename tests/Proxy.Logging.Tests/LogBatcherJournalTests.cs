using System.Buffers;
using System.IO.Compression;

namespace Proxy.Logging.Tests;

/// <summary>
/// Crash safety: the open batch's lines reach its journal segment within the flush interval, every cut batch is in
/// the spool before its upload starts, and a restart replays what a dead run left, each record under one name.
/// A SIGKILL is simulated by copying the spool directory while the batcher runs: that copy is what the kill leaves.
/// </summary>
public class LogBatcherJournalTests
{
    private const string OldName = "requests/2026/05/06/07/old-20260506070000-00000003.jsonl.gz";

    [Fact]
    public async Task Lines_reach_the_journal_at_the_next_tick_and_records_do_not_wake_a_ticking_worker()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink),
            T.Options(dir) with { MaxAge = TimeSpan.FromHours(1), FlushInterval = TimeSpan.FromMilliseconds(100) }, clock);

        // The first record wakes the idle worker, which takes it and opens the batch's segment...
        batcher.TryWrite(T.Record(0));
        T.WaitUntil(() => batcher.Queued == 0 && Journals(dir).Count == 1, what: "the first record to be taken");

        // ...then the worker ticks: while the clock stands still, new records wait in the queue (no wake-up per
        // record) and nothing is written through before the flush interval...
        batcher.TryWrite(T.Record(1));
        batcher.TryWrite(T.Record(2));
        Thread.Sleep(200);
        Assert.Empty(JournalLines(dir));
        Assert.Equal(2, batcher.Queued);

        // ...and the interval passing is enough to take them and write them through.
        T.WaitUntil(() =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            return JournalLines(dir).Count == 3;
        }, what: "the write-through");
        Assert.Equal(Enumerable.Range(0, 3).Select(i => T.Record(i).RequestId), T.RequestIds(JournalLines(dir)));
        Assert.Empty(T.ObjectFiles(dir.Sink));

        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(3, T.AllLines(dir.Sink).Count);
        Assert.Empty(Journals(dir)); // The batch was spooled and uploaded: nothing left to replay.
    }

    [Fact]
    public async Task A_burst_that_half_fills_the_queue_wakes_a_ticking_worker_so_nothing_is_dropped()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink),
            T.Options(dir) with { MaxAge = TimeSpan.FromHours(1), FlushInterval = TimeSpan.FromSeconds(10), QueueCapacity = 8 }, clock);
        batcher.TryWrite(T.Record(0));
        T.WaitUntil(() => batcher.Queued == 0, what: "the first record to be taken");

        // The clock stands still, so no tick comes: only the half-full queue can wake the worker. 40 records in
        // bursts of 4 through an 8-slot queue get through only if every burst wakes it.
        for (var burst = 0; burst < 10; burst++)
        {
            for (var i = 1; i <= 4; i++)
            {
                Assert.True(batcher.TryWrite(T.Record(burst * 4 + i)));
            }

            T.WaitUntil(() => batcher.Queued == 0, what: "the burst to be taken");
        }

        Assert.Equal(0, batcher.Dropped);
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(41, T.AllLines(dir.Sink).Count);
    }

    [Fact]
    public async Task A_killed_run_is_replayed_under_the_names_it_would_have_had_and_nothing_twice()
    {
        using var dir = new TempDir();
        using var crashed = new TempDir();
        // First run: the sink is down, so two cut batches wait in the spool, and 3 records sit in the open batch.
        var down = new ControlledSink(dir.Sink) { Failing = true };
        var first = new LogBatcher(down, T.Options(dir) with
        {
            MaxRecords = 5,
            MaxAge = TimeSpan.FromHours(1),
            FlushInterval = TimeSpan.FromMilliseconds(20),
            ShutdownDeadline = TimeSpan.FromMilliseconds(200),
        });
        for (var i = 0; i < 13; i++)
        {
            first.TryWrite(T.Record(i));
        }

        T.WaitUntil(() => first.SpoolPendingBatches == 2 && JournalLines(dir).Count == 3, what: "2 spooled batches and 3 journaled lines");
        CopyDirectory(dir.Spool, crashed.Spool); // What a SIGKILL now would leave on disk.
        await first.DisposeAsync().AsTask().WaitAsync(T.Bound);

        var up = new ControlledSink(crashed.Sink);
        var second = new LogBatcher(up, T.Options(crashed) with { Instance = "second" });
        T.WaitUntil(() => up.Uploaded.Count == 3, what: "the replayed batches");
        await second.DisposeAsync().AsTask().WaitAsync(T.Bound);

        var prefix = "/" + first.InstanceId + "-";
        Assert.Equal([prefix + "00000001", prefix + "00000002", prefix + "00000003"], up.Uploaded.Select(n => n[n.LastIndexOf('/')..^9]));
        Assert.Equal(Enumerable.Range(0, 13).Select(i => T.Record(i).RequestId), T.RequestIds(T.AllLines(crashed.Sink)).Order());
        Assert.Equal(3, second.RecoveredRecords);
        Assert.Equal(0, second.RecoveryLostLines);
        Assert.Empty(Directory.EnumerateFiles(crashed.Spool, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_torn_segment_is_replayed_up_to_its_last_complete_line()
    {
        using var dir = new TempDir();
        // Records 0-3, each written through on its own; uncompressed blocks, so the damage lands on known bytes:
        // record 1 garbled (not a JSON object any more), record 3 cut mid-line (the write the process died in).
        var (segment, ends) = Segment(Enumerable.Range(0, 4).Select(i => Lines(i, 1)), CompressionLevel.NoCompression);
        var record1 = segment.AsSpan(ends[0], ends[1] - ends[0]).IndexOf("{\"schema_version\""u8) + ends[0];
        segment[record1] = (byte)'X';
        WriteJournal(dir, OldName, segment[..((ends[2] + ends[3]) / 2)]);

        var sink = new ControlledSink(dir.Sink);
        var batcher = new LogBatcher(sink, T.Options(dir));
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);

        Assert.Equal([OldName], sink.Uploaded);
        Assert.Equal([T.Record(0).RequestId, T.Record(2).RequestId], T.RequestIds(T.AllLines(dir.Sink)));
        Assert.Equal(2, batcher.RecoveredRecords);
        Assert.Equal(2, batcher.RecoveryLostLines);
        Assert.Empty(Journals(dir));
    }

    [Fact]
    public async Task A_spooled_batch_cut_short_by_a_power_loss_is_uploaded_as_its_complete_lines()
    {
        using var dir = new TempDir();
        // A batch file an earlier process renamed into the spool, whose end never reached the disk.
        var (batch, ends) = Segment(Enumerable.Range(0, 5).Select(i => Lines(i, 1)), CompressionLevel.NoCompression);
        var path = Path.Combine(dir.Spool, OldName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, batch[..(ends[2] + 20)]);

        var sink = new ControlledSink(dir.Sink);
        var batcher = new LogBatcher(sink, T.Options(dir));
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);

        Assert.Equal([OldName], sink.Uploaded);
        var uploaded = File.ReadAllBytes(Path.Combine(dir.Sink, OldName));
        Assert.True(Journal.Salvage(uploaded).Intact, "the uploaded object is a whole gzip file");
        Assert.Equal(Enumerable.Range(0, 3).Select(i => T.Record(i).RequestId), T.RequestIds(T.Lines(uploaded)));
        Assert.Equal(1, batcher.RecoveryLostLines);
    }

    [Fact]
    public async Task A_segment_whose_batch_is_already_spooled_is_dropped_not_uploaded_twice()
    {
        using var dir = new TempDir();
        var (gz, _) = Segment([Lines(0, 5)], CompressionLevel.Fastest);
        // Both on disk: written by hand, as a rename cannot leave them (the replay must not upload the lines twice).
        var batchPath = Path.Combine(dir.Spool, OldName);
        Directory.CreateDirectory(Path.GetDirectoryName(batchPath)!);
        await File.WriteAllBytesAsync(batchPath, gz);
        WriteJournal(dir, OldName, gz);
        // An empty segment (the process died right after opening it) leaves no object at all.
        WriteJournal(dir, OldName.Replace("00000003", "00000004", StringComparison.Ordinal), []);

        var sink = new ControlledSink(dir.Sink);
        var batcher = new LogBatcher(sink, T.Options(dir));
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);

        Assert.Equal([OldName], sink.Uploaded);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => T.Record(i).RequestId), T.RequestIds(T.AllLines(dir.Sink)));
        Assert.Equal(0, batcher.RecoveredRecords);
        Assert.Empty(Directory.EnumerateFiles(dir.Spool, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Every_batch_is_in_the_spool_and_its_segment_gone_before_its_upload_starts()
    {
        using var dir = new TempDir();
        var sink = new SpoolCheckingSink(dir);
        var batcher = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 3, FlushInterval = TimeSpan.FromMilliseconds(1) });
        for (var i = 0; i < 60; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(20, sink.Checked);
        Assert.Empty(sink.Violations);
        Assert.Equal(60, T.AllLines(dir.Sink).Count);
        Assert.Equal(20, batcher.SpooledBatches);
        Assert.Empty(Directory.EnumerateFiles(dir.Spool, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Batches_behind_a_hung_upload_are_on_disk()
    {
        using var dir = new TempDir();
        var sink = new HangingSink(dir.Sink, hangs: 1);
        var batcher = new LogBatcher(sink, T.Options(dir) with
        {
            MaxRecords = 4,
            FlushInterval = TimeSpan.FromMilliseconds(20),
            UploadTimeout = TimeSpan.FromSeconds(30),
        });
        for (var i = 0; i < 4; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        T.WaitUntil(() => sink.Calls == 1, what: "the hung upload");
        for (var i = 4; i < 14; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        // The first batch is uploading; the two cut behind it are in the spool too, and the open one in its segment.
        T.WaitUntil(() => OnDisk(dir).Count == 14, what: "every record on disk");
        Assert.Equal(Enumerable.Range(0, 14).Select(i => T.Record(i).RequestId), OnDisk(dir).Order());
        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
    }

    [Fact]
    public async Task A_restart_within_the_same_second_continues_after_the_names_still_in_the_spool()
    {
        using var dir = new TempDir();
        var start = new FixedClock(new DateTimeOffset(2026, 7, 8, 9, 0, 0, TimeSpan.Zero));
        var first = new LogBatcher(new ControlledSink(dir.Sink) { Failing = true },
            T.Options(dir) with { MaxRecords = 2, ShutdownDeadline = TimeSpan.FromMilliseconds(200) }, start);
        first.TryWrite(T.Record(1));
        first.TryWrite(T.Record(2));
        await first.DisposeAsync().AsTask().WaitAsync(T.Bound);

        var sink = new ControlledSink(dir.Sink);
        var second = new LogBatcher(sink, T.Options(dir) with { MaxRecords = 2 }, start);
        Assert.Equal(first.InstanceId, second.InstanceId);
        second.TryWrite(T.Record(3));
        second.TryWrite(T.Record(4));
        await second.DisposeAsync().AsTask().WaitAsync(T.Bound);

        Assert.Equal(["-00000001.jsonl.gz", "-00000002.jsonl.gz"], sink.Uploaded.Select(n => n[^18..]));
        Assert.Equal(4, T.AllLines(dir.Sink).Count);
    }

    [Fact]
    public async Task A_spool_that_refuses_writes_costs_crash_safety_not_records()
    {
        using var dir = new TempDir();
        // A file where the spool directory should be: neither a journal segment nor a batch file can be made.
        await File.WriteAllTextAsync(dir.Spool, "in the way");
        var batcher = new LogBatcher(new LocalDirectorySink(dir.Sink), T.Options(dir) with { MaxRecords = 5 });
        for (var i = 0; i < 10; i++)
        {
            batcher.TryWrite(T.Record(i));
        }

        await batcher.DisposeAsync().AsTask().WaitAsync(T.Bound);
        Assert.Equal(10, T.AllLines(dir.Sink).Count); // Uploaded from memory, as before the spool came first.
        Assert.Equal(2, batcher.JournalErrors);
        Assert.Equal(0, batcher.SpooledBatches);
        Assert.Equal(0, batcher.SpoolDroppedBatches);
    }

    private static List<string> Journals(TempDir dir) =>
        Directory.Exists(dir.Spool) ? Directory.EnumerateFiles(dir.Spool, "*.journal", SearchOption.AllDirectories).ToList() : [];

    /// <summary>The lines of the journal segments as far as they decode (a segment is a gzip stream without its end yet).</summary>
    private static List<string> JournalLines(TempDir dir) =>
        Journals(dir).Select(ReadShared).Where(b => b.Length > 0).SelectMany(T.Lines).ToList();

    /// <summary>Request ids in the spool's batch files and journal segments.</summary>
    private static List<string> OnDisk(TempDir dir) =>
        T.RequestIds(T.ObjectFiles(dir.Spool).SelectMany(f => T.Lines(ReadShared(f))).Concat(JournalLines(dir)));

    private static byte[] ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        catch (FileNotFoundException)
        {
            return []; // Deleted between the listing and the read.
        }
    }

    private static byte[] Lines(int from, int count)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new RecordWriter("old-20260506070000");
        for (var i = from; i < from + count; i++)
        {
            writer.WriteLine(T.Record(i), buffer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A gzip stream with a sync flush after each part, as the batcher writes a segment; and where each part ends.</summary>
    private static (byte[] Gz, int[] Ends) Segment(IEnumerable<byte[]> parts, CompressionLevel level)
    {
        var output = new MemoryStream();
        var ends = new List<int>();
        using (var gzip = new GZipStream(output, level, leaveOpen: true))
        {
            foreach (var part in parts)
            {
                gzip.Write(part);
                gzip.Flush();
                ends.Add((int)output.Length);
            }
        }

        return (output.ToArray(), [.. ends]);
    }

    private static void WriteJournal(TempDir dir, string objectName, byte[] content)
    {
        var path = Path.Combine(dir.Spool, objectName + ".journal");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, ReadShared(file));
        }
    }

    /// <summary>At each upload: is the batch's spool file there, and its journal segment gone?</summary>
    private sealed class SpoolCheckingSink(TempDir dir) : ILogSink
    {
        private readonly LocalDirectorySink _inner = new(dir.Sink);
        private int _checked;

        public string Name => "checking";

        public int Checked => Volatile.Read(ref _checked);

        public List<string> Violations { get; } = [];

        public Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
        {
            var spooled = Path.Combine(dir.Spool, objectName);
            if (!File.Exists(spooled) || File.Exists(spooled + ".journal") || !File.ReadAllBytes(spooled).AsSpan().SequenceEqual(gzippedJsonLines.Span))
            {
                lock (Violations)
                {
                    Violations.Add(objectName);
                }
            }

            Interlocked.Increment(ref _checked);
            return _inner.UploadAsync(objectName, gzippedJsonLines, ct);
        }
    }
}
