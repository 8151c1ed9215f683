namespace Proxy.Logging;

/// <summary>
/// The on-disk queue of batches that could not be uploaded yet: one file per batch, at
/// <c>&lt;directory&gt;/&lt;objectName&gt;</c>, written atomically so a crash never leaves half a batch that
/// looks whole. Bounded by bytes; when full the OLDEST batches are deleted (the newest data is usually the
/// most useful during an outage, and the sink is down anyway). Only the batcher's upload loop touches it.
/// </summary>
internal sealed class Spool
{
    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly Queue<Entry> _entries = new();
    private long _bytes;
    private int _count;

    public Spool(string directory, long maxBytes)
    {
        _directory = Path.GetFullPath(directory);
        _maxBytes = maxBytes;
    }

    /// <summary>Batches waiting (readable from other threads for metrics).</summary>
    public int Count => Volatile.Read(ref _count);

    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>
    /// Picks up batches a previous run left behind (crash, outage at shutdown), in object-name order: within one
    /// instance that is hour then sequence, i.e. the order they were cut.
    /// </summary>
    public void LoadExisting()
    {
        if (!Directory.Exists(_directory))
        {
            return;
        }

        var files = new List<(string Name, string Path, long Length)>();
        foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal))
            {
                AtomicFile.TryDelete(file); // An interrupted write: its batch was never acknowledged as spooled.
                continue;
            }

            files.Add((ObjectPath.ToObjectName(_directory, file), file, new FileInfo(file).Length));
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, path, length) in files)
        {
            Push(new Entry(name, path, length));
        }
    }

    /// <summary>
    /// Writes a batch to the spool. Returns whether it was stored (false: larger than the whole spool) and how
    /// many older batches were deleted to make room.
    /// </summary>
    public async Task<(bool Stored, int DroppedOlder)> AddAsync(string objectName, ReadOnlyMemory<byte> data)
    {
        var dropped = 0;
        if (data.Length > _maxBytes)
        {
            return (false, 0);
        }

        while (_entries.Count > 0 && _bytes + data.Length > _maxBytes)
        {
            RemoveFirst();
            dropped++;
        }

        var path = ObjectPath.Resolve(_directory, objectName);
        // Not cancellable: the spool is the last resort at shutdown, and a local write is quick.
        await AtomicFile.WriteAsync(path, data, CancellationToken.None).ConfigureAwait(false);
        Push(new Entry(objectName, path, data.Length));
        return (true, dropped);
    }

    public bool TryPeek(out Entry entry) => _entries.TryPeek(out entry!);

    /// <summary>Reads the oldest batch; null when the file vanished or is unreadable (the caller drops it).</summary>
    public static async Task<byte[]?> ReadAsync(Entry entry)
    {
        try
        {
            return await File.ReadAllBytesAsync(entry.Path).ConfigureAwait(false);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Forgets and deletes the oldest batch (uploaded, unreadable, or dropped for room).</summary>
    public void RemoveFirst()
    {
        var entry = _entries.Dequeue();
        AtomicFile.TryDelete(entry.Path);
        Volatile.Write(ref _bytes, _bytes - entry.Length);
        Volatile.Write(ref _count, _entries.Count);
    }

    private void Push(Entry entry)
    {
        _entries.Enqueue(entry);
        Volatile.Write(ref _bytes, _bytes + entry.Length);
        Volatile.Write(ref _count, _entries.Count);
    }

    internal sealed record Entry(string ObjectName, string Path, long Length);
}
