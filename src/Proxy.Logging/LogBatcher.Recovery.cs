namespace Proxy.Logging;

// Start-up: what a previous run left in the spool directory becomes batches again, before this run writes there.
public sealed partial class LogBatcher
{
    private long _recoveredRecords;
    private long _recoveryLostLines;

    private async Task RecoverAsync()
    {
        try
        {
            await ReplayJournalsAsync().ConfigureAwait(false);
            // Anything a crash or an outage left behind goes first, so objects arrive roughly in order.
            _spool.LoadExisting();
            _sequence = _spool.MaxSequence(InstanceId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Volatile.Write(ref _lastError, ex);
        }
    }

    /// <summary>
    /// Each leftover journal segment is the open (or finished but not yet renamed) batch of a process that died.
    /// If its batch file exists, the batch was stored another way (written from memory after the segment could not
    /// be renamed) and the process died before deleting the segment: the segment is dropped. Otherwise its complete
    /// lines become that batch, under the object name the segment carries, so a record is never stored under two
    /// names (and a retry overwrites).
    /// </summary>
    private async Task ReplayJournalsAsync()
    {
        if (!Directory.Exists(_spool.Root))
        {
            return;
        }

        var segments = Directory.EnumerateFiles(_spool.Root, "*" + Journal.Suffix, SearchOption.AllDirectories).ToList();
        foreach (var segment in segments)
        {
            var batchPath = segment[..^Journal.Suffix.Length];
            try
            {
                if (!File.Exists(batchPath))
                {
                    await ReplayAsync(segment, batchPath).ConfigureAwait(false);
                }

                AtomicFile.TryDelete(segment); // Gone already if it was renamed.
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left for the next start; LoadExisting skips it meanwhile.
                Volatile.Write(ref _lastError, ex);
            }
        }
    }

    private async Task ReplayAsync(string segment, string batchPath)
    {
        var (lines, lost, intact) = Journal.Salvage(await File.ReadAllBytesAsync(segment).ConfigureAwait(false));
        Interlocked.Add(ref _recoveryLostLines, lost);
        var records = lines.AsSpan().Count((byte)'\n');
        if (records == 0)
        {
            return;
        }

        if (intact)
        {
            // Finished (trailer written) but not yet renamed when the process died: it is the batch as it was.
            File.Move(segment, batchPath);
        }
        else
        {
            await AtomicFile.WriteAsync(batchPath, Compress(lines), CancellationToken.None).ConfigureAwait(false);
            // The batch's age (metrics, alerts) counts from its last record, not from this restart.
            File.SetLastWriteTimeUtc(batchPath, File.GetLastWriteTimeUtc(segment));
        }

        Interlocked.Add(ref _recoveredRecords, records);
    }
}
