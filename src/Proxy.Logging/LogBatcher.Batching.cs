using System.Buffers;
using System.IO.Compression;
using Proxy.Accounting;

namespace Proxy.Logging;

// The single consumer: drains the queue into JSON lines and cuts compressed batches by count, size or age.
public sealed partial class LogBatcher
{
    // Test seam: tests hold the consumer here to fill the queue. Always completed in production.
    private Task _consumerGate = Task.CompletedTask;

    internal Task ConsumerGate
    {
        get => Volatile.Read(ref _consumerGate);
        set => Volatile.Write(ref _consumerGate, value);
    }

    private async Task BatchLoopAsync()
    {
        var lines = new ArrayBufferWriter<byte>(256 * 1024);
        var open = new OpenBatch();

        try
        {
            // The replay of a previous run's journal must not meet this run's first segment.
            await _recovered.ConfigureAwait(false);
            while (true)
            {
                await Volatile.Read(ref _consumerGate).ConfigureAwait(false);
                while (_queue.TryDequeue(out var record))
                {
                    Volatile.Write(ref _dequeued, _dequeued + 1); // Single consumer: no read-modify-write race.
                    if (_options.OnRecord is { } observe)
                    {
                        try
                        {
                            observe(record);
                        }
                        catch (Exception)
                        {
                            // An observer's failure never costs the log a record.
                        }
                    }
                    if (!Append(record, lines))
                    {
                        continue;
                    }

                    var now = _time.GetTimestamp();
                    if (open.Count++ == 0)
                    {
                        Open(ref open, record.StartedAt, now);
                    }

                    if (open.UnjournaledSince == 0)
                    {
                        open.UnjournaledSince = now;
                    }

                    // Limits and the journal are checked here too: under sustained load this loop may not run dry for long.
                    if (open.Count >= _options.MaxRecords || open.Journaled + lines.WrittenCount >= _options.MaxBytes ||
                        Elapsed(open.OpenedAt, now) >= _options.MaxAge)
                    {
                        Cut(lines, ref open);
                    }
                    else if (JournalDue(open, now))
                    {
                        WriteJournal(lines, ref open);
                    }
                }

                if (open.Count > 0 && _time.GetElapsedTime(open.OpenedAt) >= _options.MaxAge)
                {
                    Cut(lines, ref open);
                }
                else if (open.UnjournaledSince != 0 && JournalDue(open, _time.GetTimestamp()))
                {
                    WriteJournal(lines, ref open);
                }

                if (Volatile.Read(ref _stopping) != 0)
                {
                    // Producers that passed the stop check before it was set are still enqueuing: wait them out
                    // (a few instructions each), then the queue holds everything that was accepted.
                    var spin = new SpinWait();
                    while (Volatile.Read(ref _writers) != 0)
                    {
                        spin.SpinOnce();
                    }

                    if (_queue.IsEmpty)
                    {
                        if (open.Count > 0)
                        {
                            Cut(lines, ref open);
                        }

                        return;
                    }

                    continue;
                }

                // Idle (no open batch): sleep until the next record wakes us. Busy: tick every drain interval
                // (sooner if the age cut is due) and take whatever arrived meanwhile in one pass. Producers do not
                // wake a ticking worker, so under load the log costs a hundred wake-ups a second, not one per record.
                var timeout = Timeout.InfiniteTimeSpan;
                if (open.Count > 0)
                {
                    var cutDue = _options.MaxAge - _time.GetElapsedTime(open.OpenedAt);
                    timeout = cutDue < DrainInterval ? cutDue : DrainInterval;
                }

                await SleepAsync(timeout).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Not expected (serialization errors are handled per record); records still queued are lost, which
            // is what the counters and LastError then show.
            Volatile.Write(ref _lastError, ex);
        }
        finally
        {
            _journal.Dispose();
            _batches.Writer.TryComplete();
        }
    }

    private TimeSpan Elapsed(long since, long now) => _time.GetElapsedTime(since, now);

    /// <summary>
    /// How often a busy worker takes the queue. Short, because a record still queued is still referenced: held for a
    /// whole flush interval, records outlived the collector's youngest generation, which promoted them and grew
    /// (10 s at ~14k req/s: 42-48 gen0, 2-16 gen1 and 1-2 gen2 collections, 70-72 MB peak RSS); taken every 10 ms
    /// they die young (80-124 gen0, 0-1 gen1, 0-1 gen2, 63-68 MB). Never longer than the flush interval.
    /// </summary>
    private TimeSpan DrainInterval => _options.FlushInterval < MaxDrainInterval ? _options.FlushInterval : MaxDrainInterval;

    private static readonly TimeSpan MaxDrainInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The lines taken since the last write-through go to the journal once the oldest of them has waited a flush
    /// interval less one drain interval (the most it can have waited in the queue before): the crash window stays
    /// one flush interval, while the journal is written ten times a second, not at every drain.
    /// </summary>
    private bool JournalDue(in OpenBatch open, long now) => Elapsed(open.UnjournaledSince, now) >= _options.FlushInterval - DrainInterval;

    /// <summary>
    /// A new batch: its object name is fixed now (not at the cut), so its journal segment can carry it and a replay
    /// after a crash uploads it under the name it would have had: a batch is never stored under two names.
    /// </summary>
    private void Open(ref OpenBatch open, DateTimeOffset firstStart, long now)
    {
        open.Name = NextObjectName(firstStart);
        open.OpenedAt = now;
        open.Journaled = 0;
        // A segment that cannot be created leaves the batch in memory only: counted, and it still goes out.
        _journal.Open(ObjectPath.Resolve(_spool.Root, open.Name + Journal.Suffix));
    }

    /// <summary>Compresses the lines added since the last write-through into the batch and writes them through (no fsync).</summary>
    private void WriteJournal(ArrayBufferWriter<byte> lines, ref OpenBatch open)
    {
        _journal.Flush(lines.WrittenSpan);
        open.Journaled += lines.WrittenCount;
        lines.ResetWrittenCount();
        open.UnjournaledSince = 0;
    }

    private bool Append(RequestRecord record, ArrayBufferWriter<byte> lines)
    {
        try
        {
            _recordWriter.WriteLine(record, lines);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.Text.Json.JsonException)
        {
            // E.g. a lone surrogate in a string. The writer only advances the buffer on its final flush, so a
            // failed record leaves nothing behind; it is counted as dropped.
            Interlocked.Increment(ref _dropped);
            Volatile.Write(ref _lastError, ex);
            return false;
        }
    }

    private void Cut(ArrayBufferWriter<byte> lines, ref OpenBatch open)
    {
        var (data, journal, complete) = _journal.Finish(lines.WrittenSpan);
        var spooled = default(string);
        if (complete)
        {
            // The finished segment becomes the batch's spool file in one rename (atomic: a crash leaves one or the
            // other), so the batch is on disk before it leaves this loop, even if uploads are hung.
            var path = journal![..^Journal.Suffix.Length];
            try
            {
                File.Move(journal, path, overwrite: true);
                spooled = path;
                journal = null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _journal.Fail(ex);
            }
        }

        // A spooled batch is uploaded from its file; only one that is not on disk keeps its bytes in memory.
        var batch = new Batch(open.Name, spooled is null ? data.ToArray() : ReadOnlyMemory<byte>.Empty, data.Length,
            open.Count, _time.GetUtcNow(), spooled, journal);
        _batches.Writer.TryWrite(batch); // Unbounded: always succeeds.
        lines.ResetWrittenCount();
        open = new OpenBatch();
    }

    internal static ReadOnlyMemory<byte> Compress(ReadOnlySpan<byte> lines)
    {
        var compressed = new MemoryStream(lines.Length / 4 + 64);
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(lines);
        }

        // The stream's own buffer, not a copy (a MemoryStream holds no unmanaged resources to dispose).
        return new ReadOnlyMemory<byte>(compressed.GetBuffer(), 0, (int)compressed.Length);
    }

    /// <summary>
    /// Parks the worker until the timeout, a stop, or a producer's wake-up: any producer's when idle (infinite
    /// timeout), only one that finds the queue half full when ticking.
    /// </summary>
    private async Task SleepAsync(TimeSpan timeout)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _wake, waiter);
        var idle = timeout == Timeout.InfiniteTimeSpan;
        if (idle)
        {
            // A full fence: a producer either sees the flag after its enqueue, or this re-check sees its record.
            Interlocked.Exchange(ref _idle, 1);
        }

        // Re-check after publishing the waiter: a producer that enqueued just before would not have seen it.
        if ((idle && !_queue.IsEmpty) || Volatile.Read(ref _stopping) != 0)
        {
            Volatile.Write(ref _idle, 0);
            Interlocked.Exchange(ref _wake, null);
            return;
        }

        if (idle)
        {
            await waiter.Task.ConfigureAwait(false);
            Volatile.Write(ref _idle, 0);
            return;
        }

        if (timeout <= TimeSpan.Zero)
        {
            return;
        }

        using var cancelDelay = new CancellationTokenSource();
        var delay = Task.Delay(timeout, _time, cancelDelay.Token);
        await Task.WhenAny(waiter.Task, delay).ConfigureAwait(false);
        await cancelDelay.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>The batch being filled. Timestamps are the TimeProvider's; 0 means "not set".</summary>
    private struct OpenBatch
    {
        public string Name;
        public int Count;
        public long OpenedAt;

        /// <summary>Uncompressed bytes of the batch already compressed and written through (the rest are in the lines buffer).</summary>
        public long Journaled;

        /// <summary>When the oldest line not yet in the journal was added; 0 when all are.</summary>
        public long UnjournaledSince;
    }
}
