using System.Buffers;

namespace Proxy.Logging;

// The upload loop: takes every cut batch into the spool, then sends the spool oldest first, backing off while the sink fails.
public sealed partial class LogBatcher
{
    // The batch at the head of the upload queue and when its first attempt began (TimeProvider timestamp; 0: idle).
    private Spool.Entry? _head;
    private long _headSince;
    private int _consecutiveFailures;
    private bool _uploadSettled; // The last attempt's sink call has finished: its memory may be reused.

    private async Task UploadLoopAsync()
    {
        await _recovered.ConfigureAwait(false);
        var reader = _batches.Reader;
        var failures = 0;
        try
        {
            while (true)
            {
                // A network sink's await may complete on a socket I/O thread (server.inline_io); the next
                // batch's signing, reading and compressing must not run there, in front of requests.
                await Task.Yield();

                // Every cut batch joins the spool's queue (its file is there since the cut) before the next upload
                // starts, so the spool's bound and its oldest-first order include it.
                while (reader.TryRead(out var batch))
                {
                    await PersistAsync(batch).ConfigureAwait(false);
                }

                if (!_spool.TryPeek(out var entry))
                {
                    SetHead(null);
                    if (!await reader.WaitToReadAsync().ConfigureAwait(false))
                    {
                        return; // Stopped and everything is uploaded.
                    }

                    continue;
                }

                SetHead(entry);
                var (data, rented) = await ReadForUploadAsync(entry).ConfigureAwait(false);
                if (data.IsEmpty)
                {
                    _spool.RemoveFirst(); // Vanished, unreadable or empty: nothing to upload.
                    continue;
                }

                var uploaded = await TryUploadAsync(entry.ObjectName, data).ConfigureAwait(false);
                if (rented is not null && _uploadSettled)
                {
                    // Only once the sink is done with it: an attempt that timed out may still be reading it.
                    ArrayPool<byte>.Shared.Return(rented);
                }

                if (uploaded)
                {
                    _spool.RemoveFirst();
                    failures = 0;
                    Volatile.Write(ref _consecutiveFailures, 0);
                    continue;
                }

                Volatile.Write(ref _consecutiveFailures, ++failures);
                if (_stopRequested.IsCancellationRequested)
                {
                    // Shutting down and the sink is failing: first make every in-memory batch durable (a SIGKILL
                    // may follow), then keep retrying from the spool until the deadline; what is left stays there.
                    await SpoolRemainingAsync().ConfigureAwait(false);
                    if (_hardStop.IsCancellationRequested)
                    {
                        return;
                    }
                }

                await BackoffAsync(failures).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Bug guard: whatever happens, shutdown must still put the in-memory batches somewhere.
            Volatile.Write(ref _lastError, ex);
            await SpoolRemainingAsync().ConfigureAwait(false);
        }
        finally
        {
            SetHead(null);
        }
    }

    /// <summary>The stall clock runs per head batch: it restarts whenever a new batch reaches the head, and stops when idle.</summary>
    private void SetHead(Spool.Entry? entry)
    {
        if (ReferenceEquals(entry, _head))
        {
            return;
        }

        _head = entry;
        Interlocked.Exchange(ref _headSince, entry is null ? 0 : _time.GetTimestamp());
    }

    /// <summary>
    /// The head batch's bytes: a file this process cut is read into a pooled buffer (returned after the upload);
    /// one an earlier process left is checked (and repaired) first. Empty: nothing to upload.
    /// </summary>
    private async Task<(ReadOnlyMemory<byte> Data, byte[]? Rented)> ReadForUploadAsync(Spool.Entry entry)
    {
        if (entry.Leftover)
        {
            var data = await Spool.ReadAsync(entry).ConfigureAwait(false);
            return (data is null ? null : Verified(entry, data), null);
        }

        return await Spool.ReadPooledAsync(entry).ConfigureAwait(false) is { } read
            ? (read.Buffer.AsMemory(0, read.Length), read.Buffer)
            : (ReadOnlyMemory<byte>.Empty, null);
    }

    /// <summary>
    /// One attempt. At-least-once: an upload that completes in the sink just as it times out can be spooled and
    /// sent again later, under the same object name, so the retry overwrites rather than duplicates.
    /// </summary>
    private async Task<bool> TryUploadAsync(string objectName, ReadOnlyMemory<byte> data)
    {
        _uploadSettled = false;
        using var timeout = new CancellationTokenSource(_options.UploadTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _hardStop.Token);
        Task? upload = null;
        try
        {
            // WaitAsync: a sink that ignores its token still cannot hold the loop past the timeout.
            upload = _sink.UploadAsync(objectName, data, linked.Token);
            await upload.WaitAsync(linked.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _batchesUploaded);
            Interlocked.Add(ref _bytesUploaded, data.Length);
            return true;
        }
        catch (OperationCanceledException) when (upload is { IsCompletedSuccessfully: true })
        {
            // The timeout raced a finished upload: it did succeed, do not spool a copy.
            Interlocked.Increment(ref _batchesUploaded);
            Interlocked.Add(ref _bytesUploaded, data.Length);
            return true;
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _uploadFailures);
            Volatile.Write(ref _lastError, ex);
            return false;
        }
        finally
        {
            _uploadSettled = upload is null || upload.IsCompleted;
        }
    }

    /// <summary>
    /// Takes a cut batch into the spool's accounting: normally its file is already there (the batch loop renamed
    /// the finished journal segment). If the disk refused the segment, the batch is written from memory, and if the
    /// disk refuses that too it is uploaded from memory once, as before every batch went through the spool, so a
    /// full disk does not stop the log while the sink works.
    /// </summary>
    private async Task PersistAsync(Batch batch)
    {
        if (batch.SpoolPath is { } path)
        {
            // Bookkeeping only (no I/O that can fail): the file is in place since the cut. When full, the spool
            // deletes its OLDEST batches to make room; they are counted as dropped.
            Counted(_spool.Adopt(batch.ObjectName, path, batch.Length, batch.CutAt));
        }
        else
        {
            await WriteToSpoolAsync(batch).ConfigureAwait(false);
        }

        if (batch.JournalPath is not null)
        {
            AtomicFile.TryDelete(batch.JournalPath);
        }
    }

    private void Counted((bool Stored, int DroppedOlder) result)
    {
        Interlocked.Add(ref _spoolDroppedBatches, result.DroppedOlder + (result.Stored ? 0 : 1));
        if (result.Stored)
        {
            Interlocked.Increment(ref _spooledBatches);
        }
    }

    /// <summary>A batch whose journal segment the disk refused: written from memory, or uploaded from memory once.</summary>
    private async Task WriteToSpoolAsync(Batch batch)
    {
        try
        {
            Counted(await _spool.AddAsync(batch.ObjectName, batch.Data, batch.CutAt).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _lastError, ex);
            if (!await TryUploadAsync(batch.ObjectName, batch.Data).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _spoolDroppedBatches); // Neither the disk nor the sink took it: lost, and counted.
            }
        }
    }

    /// <summary>
    /// A batch file an earlier process left is checked before it is sent: without fsync, a power loss can leave one
    /// cut short, and a truncated gzip object would break every query that reads it. A damaged one is replaced by
    /// its complete lines. Null: nothing readable in it.
    /// </summary>
    private byte[]? Verified(Spool.Entry entry, byte[] data)
    {
        var (lines, lost, intact) = Journal.Salvage(data);
        if (intact)
        {
            return data;
        }

        Interlocked.Add(ref _recoveryLostLines, lost);
        return lines.Length == 0 ? null : Compress(lines).ToArray();
    }

    private async Task SpoolRemainingAsync()
    {
        var reader = _batches.Reader;
        // The batch loop completes the channel once the queue is drained after a stop.
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var batch))
            {
                await PersistAsync(batch).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Waits the retry delay (exponential, capped, with jitter so a fleet does not retry in lockstep), moving
    /// batches that arrive meanwhile to the spool so memory stays bounded and order is kept. The shutdown
    /// deadline cuts the wait short.
    /// </summary>
    private async Task BackoffAsync(int failures)
    {
        var exponent = Math.Min(failures - 1, 30);
        var ceiling = Math.Min(_options.RetryInitialDelay.TotalMilliseconds * Math.Pow(2, exponent),
            _options.RetryMaxDelay.TotalMilliseconds);
        var jittered = TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() * 0.5));

        // Only the shutdown deadline cuts a backoff short: until then a stopping batcher keeps retrying.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token);
        var delay = Task.Delay(jittered, _time, cancel.Token);
        var reader = _batches.Reader;
        while (!delay.IsCompleted)
        {
            var ready = reader.WaitToReadAsync(cancel.Token).AsTask();
            await Task.WhenAny(delay, ready).ConfigureAwait(false);
            if (ready.IsCompletedSuccessfully && ready.Result)
            {
                while (reader.TryRead(out var batch))
                {
                    await PersistAsync(batch).ConfigureAwait(false);
                }
            }
            else if (ready.IsCompletedSuccessfully)
            {
                await Task.WhenAny(delay).ConfigureAwait(false); // Channel completed: just finish the wait.
            }
        }

        await cancel.CancelAsync().ConfigureAwait(false); // Releases the pending WaitToReadAsync.
    }
}
