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
        var count = 0;
        var firstStart = default(DateTimeOffset);
        var openedAt = 0L;

        try
        {
            while (true)
            {
                await Volatile.Read(ref _consumerGate).ConfigureAwait(false);
                while (_queue.TryDequeue(out var record))
                {
                    Interlocked.Increment(ref _dequeued);
                    if (!Append(record, lines))
                    {
                        continue;
                    }

                    if (count++ == 0)
                    {
                        firstStart = record.StartedAt;
                        openedAt = _time.GetTimestamp();
                    }

                    // Age is checked here too: under sustained load this loop may not run dry for a long time.
                    if (count >= _options.MaxRecords || lines.WrittenCount >= _options.MaxBytes ||
                        _time.GetElapsedTime(openedAt) >= _options.MaxAge)
                    {
                        Cut(lines, ref count, firstStart);
                    }
                }

                if (count > 0 && _time.GetElapsedTime(openedAt) >= _options.MaxAge)
                {
                    Cut(lines, ref count, firstStart);
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
                        if (count > 0)
                        {
                            Cut(lines, ref count, firstStart);
                        }

                        return;
                    }

                    continue;
                }

                await SleepAsync(count == 0 ? Timeout.InfiniteTimeSpan : _options.MaxAge - _time.GetElapsedTime(openedAt))
                    .ConfigureAwait(false);
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
            _batches.Writer.TryComplete();
        }
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

    private void Cut(ArrayBufferWriter<byte> lines, ref int count, DateTimeOffset firstStart)
    {
        var compressed = new MemoryStream(lines.WrittenCount / 4 + 64);
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(lines.WrittenSpan);
        }

        // The stream's own buffer, not a copy (a MemoryStream holds no unmanaged resources to dispose).
        var data = new ReadOnlyMemory<byte>(compressed.GetBuffer(), 0, (int)compressed.Length);
        var batch = new Batch(NextObjectName(firstStart), data, count);
        _batches.Writer.TryWrite(batch); // Unbounded: always succeeds.
        lines.ResetWrittenCount();
        count = 0;
    }

    /// <summary>Parks the worker until a producer wakes it, a stop is requested, or the open batch's age is due.</summary>
    private async Task SleepAsync(TimeSpan timeout)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _wake, waiter);
        // Re-check after publishing the waiter: a producer that enqueued just before would not have seen it.
        if (!_queue.IsEmpty || Volatile.Read(ref _stopping) != 0)
        {
            Interlocked.Exchange(ref _wake, null);
            return;
        }

        if (timeout == Timeout.InfiniteTimeSpan)
        {
            await waiter.Task.ConfigureAwait(false);
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
}
