using System.Globalization;
using System.Threading.Channels;
using Proxy.Accounting;

namespace Proxy.Logging;

/// <summary>
/// The request log: request threads hand records to a lock-free bounded queue (<see cref="TryWrite"/> never
/// waits); one background worker turns them into JSON lines and gzip-compressed objects, writing each object to
/// its journal segment in the spool directory as it grows (at least every <see cref="LogBatcherOptions.FlushInterval"/>)
/// and renaming it into the spool when it is cut; an upload loop sends the spool to the <see cref="ILogSink"/>
/// oldest first, retrying while the sink fails. A process that dies (SIGKILL, OOM kill) loses at most the lines of
/// the last flush interval: the next start replays what it left. Starts on construction; <see cref="StopAsync"/> /
/// <see cref="DisposeAsync"/> drain and flush.
/// </summary>
public sealed partial class LogBatcher : IRequestLog, IAsyncDisposable
{
    private readonly ILogSink _sink;
    private readonly LogBatcherOptions _options;
    private readonly TimeProvider _time;
    private readonly BoundedQueue<RequestRecord> _queue;
    private readonly RecordWriter _recordWriter;
    private readonly Spool _spool;
    private readonly Journal _journal; // The batch loop's.

    // Cut batches on their way from the batch loop to the upload loop, which takes each into the (bounded) spool's
    // accounting before any upload. Unbounded, but only what arrives during one upload attempt waits here.
    private readonly Channel<Batch> _batches = Channel.CreateUnbounded<Batch>(
        new UnboundedChannelOptions { SingleWriter = true, SingleReader = false });

    // Cancelled when a stop is requested (cuts backoff waits short) and at the shutdown deadline (cancels uploads).
    private readonly CancellationTokenSource _stopRequested = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly object _stopGate = new();

    private readonly Task _recovered;
    private readonly Task _batchTask;
    private readonly Task _uploadTask;
    private Task? _stopTask;

    private int _stopping;
    private int _writers; // Producers between their stop check and their enqueue; the final drain waits for 0.
    private TaskCompletionSource? _wake;
    private int _idle; // 1 while the worker sleeps with no open batch: the next record wakes it.
    private long _sequence;

    private long _enqueued;
    private long _dropped;
    private long _batchesUploaded;
    private long _bytesUploaded;
    private long _uploadFailures;
    private long _spooledBatches;
    private long _spoolDroppedBatches;

    public LogBatcher(ILogSink sink, LogBatcherOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _options = options ?? new LogBatcherOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.MaxAge, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.UploadTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.FlushInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.RetryInitialDelay, TimeSpan.Zero);
        ArgumentException.ThrowIfNullOrEmpty(_options.Prefix);
        ArgumentException.ThrowIfNullOrEmpty(_options.Instance);
        ArgumentException.ThrowIfNullOrEmpty(_options.SpoolDirectory);
        _time = timeProvider ?? TimeProvider.System;

        // The start stamp makes names unique across restarts of an instance whose name is fixed (a pod name):
        // a restarted process begins its sequence at 1 again and must not overwrite the previous run's objects.
        InstanceId = Sanitize(_options.Instance) + "-" +
            _time.GetUtcNow().UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        _queue = new BoundedQueue<RequestRecord>(_options.QueueCapacity);
        _recordWriter = new RecordWriter(InstanceId);
        _spool = new Spool(_options.SpoolDirectory, _options.MaxSpoolBytes);
        _journal = new Journal(ex => Volatile.Write(ref _lastError, ex));

        // Both loops start by waiting for the recovery of what a previous run left in the spool.
        _recovered = Task.Run(RecoverAsync);
        _batchTask = Task.Run(BatchLoopAsync);
        _uploadTask = Task.Run(UploadLoopAsync);
    }

    /// <summary>Instance part of object names and the "instance" field: the configured instance plus the start stamp.</summary>
    public string InstanceId { get; }

    public string SinkName => _sink.Name;

    /// <summary>Records accepted by <see cref="TryWrite"/>.</summary>
    public long Enqueued => Interlocked.Read(ref _enqueued);

    /// <summary>Records refused: queue full, written after stop, or unserializable.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public long BatchesUploaded => Interlocked.Read(ref _batchesUploaded);

    /// <summary>Compressed bytes the sink accepted.</summary>
    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);

    /// <summary>Failed or timed-out upload attempts (each retry counts).</summary>
    public long UploadFailures => Interlocked.Read(ref _uploadFailures);

    /// <summary>Batches written to the spool (every batch is, before its upload starts).</summary>
    public long SpooledBatches => Interlocked.Read(ref _spooledBatches);

    /// <summary>Batches lost: dropped as the oldest when the spool was full, or not writable to the spool.</summary>
    public long SpoolDroppedBatches => Interlocked.Read(ref _spoolDroppedBatches);

    /// <summary>Records accepted and not yet taken into a batch.</summary>
    public long Queued => Math.Max(0, Enqueued - Volatile.Read(ref _dequeued));

    private long _dequeued;

    /// <summary>Batches in the spool now: cut and not yet uploaded, the one being uploaded included.</summary>
    public int SpoolPendingBatches => _spool.Count;

    /// <summary>Bytes in the spool now.</summary>
    public long SpoolPendingBytes => _spool.Bytes;

    /// <summary>Journal segments that could not be created, written or renamed (disk full, read-only): those batches were not crash-safe.</summary>
    public long JournalErrors => _journal.Errors;

    /// <summary>Records replayed at start from journal segments a previous process left (it died before their batches were cut).</summary>
    public long RecoveredRecords => Interlocked.Read(ref _recoveredRecords);

    /// <summary>Lines lost to a crash: cut short or unreadable in those segments, or in spool files an earlier process left damaged.</summary>
    public long RecoveryLostLines => Interlocked.Read(ref _recoveryLostLines);

    public TimeSpan UploadTimeout => _options.UploadTimeout;

    /// <summary>How long ago the oldest batch not yet uploaded was cut (in the spool or on its way there); zero when none.</summary>
    public TimeSpan OldestPendingAge
    {
        get
        {
            var oldest = _spool.OldestCut ?? (_batches.Reader.TryPeek(out var batch) ? batch.CutAt : null);
            return oldest is { } cut && _time.GetUtcNow() - cut is { Ticks: > 0 } age ? age : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// How long the batch at the head of the upload queue has gone without being stored since its first attempt,
    /// once that exceeds <see cref="LogBatcherOptions.UploadTimeout"/> (a hung or failing sink); zero otherwise.
    /// </summary>
    public TimeSpan StalledFor
    {
        get
        {
            var since = Interlocked.Read(ref _headSince);
            var waited = since == 0 ? TimeSpan.Zero : _time.GetElapsedTime(since);
            return waited > _options.UploadTimeout ? waited : TimeSpan.Zero;
        }
    }

    /// <summary>The last upload attempt failed: the head batch waits in the spool for its retry.</summary>
    public bool Retrying => Volatile.Read(ref _consecutiveFailures) > 0;

    /// <summary>The last upload or spool error, for diagnostics (the batcher never throws them).</summary>
    public Exception? LastError => Volatile.Read(ref _lastError);

    private Exception? _lastError;

    /// <summary>
    /// Lock-free and wait-free for the caller apart from a CAS retry: the record is queued, or dropped and
    /// counted when the queue is full or the log is stopping.
    /// </summary>
    public bool TryWrite(RequestRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Volatile.Read(ref _stopping) != 0)
        {
            // Fast path after stop, without touching _writers, so late callers cannot delay the final drain.
            Interlocked.Increment(ref _dropped);
            return false;
        }

        Interlocked.Increment(ref _writers);
        try
        {
            // Checked after announcing ourselves in _writers: the final drain either sees us there and waits for
            // our enqueue, or we see the stop and refuse; a record is never accepted and then left behind.
            if (Volatile.Read(ref _stopping) != 0 || !_queue.TryEnqueue(record))
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _writers);
        }

        // An idle worker is woken by the first record; a ticking one only when the queue is half full (a burst),
        // so records are never dropped while the worker sleeps through its tick.
        var queued = Interlocked.Increment(ref _enqueued) - Volatile.Read(ref _dequeued);
        if (Volatile.Read(ref _idle) != 0 || queued >= _queue.Capacity / 2)
        {
            Wake();
        }

        return true;
    }

    /// <summary>
    /// Stops accepting, drains the queue, and uploads every batch; at <see cref="LogBatcherOptions.ShutdownDeadline"/>
    /// (or when <paramref name="ct"/> fires) whatever is not uploaded is written to the spool instead.
    /// Idempotent: later calls return the first call's task.
    /// </summary>
    public Task StopAsync(CancellationToken ct = default)
    {
        lock (_stopGate)
        {
            return _stopTask ??= StopCoreAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopRequested.Dispose();
        _hardStop.Dispose();
        _recordWriter.Dispose(); // The batch loop has finished: StopAsync waited for it.
    }

    private async Task StopCoreAsync(CancellationToken ct)
    {
        Interlocked.Exchange(ref _stopping, 1);
        using var deadline = new CancellationTokenSource(_options.ShutdownDeadline, _time);
        using var onDeadline = deadline.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _hardStop);
        using var onCaller = ct.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _hardStop);
        await _stopRequested.CancelAsync().ConfigureAwait(false);
        Wake();
        try
        {
            await Task.WhenAll(_batchTask, _uploadTask).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Both loops catch their own errors; this is a bug guard so Dispose never throws at shutdown.
            Volatile.Write(ref _lastError, ex);
        }
    }

    private void Wake()
    {
        // Only the first producer after the worker went to sleep pays for the wake-up; TrySetResult is lock-free.
        if (Volatile.Read(ref _wake) is not null)
        {
            Interlocked.Exchange(ref _wake, null)?.TrySetResult();
        }
    }

    private string NextObjectName(DateTimeOffset firstRecordStart)
    {
        var t = firstRecordStart.UtcDateTime;
        var sequence = ++_sequence;
        return string.Create(CultureInfo.InvariantCulture,
            $"{_options.Prefix}/{t:yyyy}/{t:MM}/{t:dd}/{t:HH}/{InstanceId}-{sequence:D8}.jsonl.gz");
    }

    private static string Sanitize(string instance)
    {
        // The instance is a path segment in every sink: keep it to characters every object store accepts.
        return string.Create(instance.Length, instance, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-';
            }
        });
    }

    /// <param name="Data">The gzip object, in memory only when it has no spool file (empty otherwise).</param>
    /// <param name="Length">The gzip object's size in bytes.</param>
    /// <param name="SpoolPath">Its spool file (the finished journal segment), or null if the disk refused the segment.</param>
    /// <param name="JournalPath">An incomplete segment to delete once the batch is stored some other way, or null.</param>
    private sealed record Batch(string ObjectName, ReadOnlyMemory<byte> Data, long Length, int Records, DateTimeOffset CutAt, string? SpoolPath, string? JournalPath);
}
