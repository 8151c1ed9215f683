using System.Buffers;

namespace Proxy.Logging;

/// <summary>
/// The on-disk queue of batches not uploaded yet: every cut batch is here before its upload starts, one file per
/// batch at <c>&lt;directory&gt;/&lt;objectName&gt;</c>, put in place by a rename so a crash never leaves half a
/// batch that looks whole, and deleted once the sink has it. The batcher's files are not fsynced (a power loss can
/// cut one short: files left by an earlier process are checked before upload). Bounded by bytes; when full the
/// OLDEST batches are deleted (the newest data is usually the most useful during an outage, and the sink is down
/// anyway). Only the batcher's upload loop (and, before it starts, its recovery) changes it.
/// </summary>
internal sealed class Spool
{
    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly Queue<Entry> _entries = new();
    private long _bytes;
    private int _count;
    private long _oldestCutTicks; // UTC ticks of the head's cut time; 0 when empty. Read by metrics.

    public Spool(string directory, long maxBytes)
    {
        _directory = Path.GetFullPath(directory);
        _maxBytes = maxBytes;
    }

    /// <summary>The spool directory, full path.</summary>
    public string Root => _directory;

    /// <summary>Batches waiting (readable from other threads for metrics).</summary>
    public int Count => Volatile.Read(ref _count);

    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>When the oldest batch waiting here was cut (for a leftover of an earlier run: its file's time).</summary>
    public DateTimeOffset? OldestCut => Volatile.Read(ref _oldestCutTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

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

            if (file.EndsWith(Journal.Suffix, StringComparison.Ordinal))
            {
                continue; // Replayed (or dropped) before this scan; one still here could not be deleted.
            }

            files.Add((ObjectPath.ToObjectName(_directory, file), file, new FileInfo(file).Length));
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, path, length) in files)
        {
            Push(new Entry(name, path, length, File.GetLastWriteTimeUtc(path), Leftover: true));
        }
    }

    /// <summary>
    /// Writes a batch to the spool. Returns whether it was stored (false: larger than the whole spool) and how
    /// many older batches were deleted to make room.
    /// </summary>
    public async Task<(bool Stored, int DroppedOlder)> AddAsync(string objectName, ReadOnlyMemory<byte> data, DateTimeOffset cutAt)
    {
        if (data.Length > _maxBytes)
        {
            return (false, 0);
        }

        var dropped = MakeRoom(data.Length);
        var path = ObjectPath.Resolve(_directory, objectName);
        // Not cancellable: the spool is the last resort at shutdown, and a local write is quick.
        await AtomicFile.WriteAsync(path, data, CancellationToken.None).ConfigureAwait(false);
        Push(new Entry(objectName, path, data.Length, cutAt, Leftover: false));
        return (true, dropped);
    }

    /// <summary>
    /// Takes in a batch file already written at <c>&lt;directory&gt;/&lt;objectName&gt;</c> (the batcher's finished
    /// journal segment). Same bound as <see cref="AddAsync"/>: a file larger than the whole spool is deleted.
    /// </summary>
    public (bool Stored, int DroppedOlder) Adopt(string objectName, string path, long length, DateTimeOffset cutAt)
    {
        if (length > _maxBytes)
        {
            AtomicFile.TryDelete(path);
            return (false, 0);
        }

        var dropped = MakeRoom(length);
        Push(new Entry(objectName, path, length, cutAt, Leftover: false));
        return (true, dropped);
    }

    public bool TryPeek(out Entry entry) => _entries.TryPeek(out entry!);

    /// <summary>Deletes the oldest batches until <paramref name="length"/> more bytes fit; returns how many.</summary>
    private int MakeRoom(long length)
    {
        var dropped = 0;
        while (_entries.Count > 0 && _bytes + length > _maxBytes)
        {
            RemoveFirst();
            dropped++;
        }

        return dropped;
    }

    /// <summary>
    /// The highest sequence number among waiting batches of <paramref name="instanceId"/>, 0 if none: a process
    /// restarted within the same second has the same id and must not reuse a name that still waits here.
    /// </summary>
    public long MaxSequence(string instanceId)
    {
        var max = 0L;
        var marker = "/" + instanceId + "-";
        foreach (var entry in _entries)
        {
            var name = entry.ObjectName;
            var at = name.LastIndexOf(marker, StringComparison.Ordinal);
            if (at >= 0 && name.EndsWith(ObjectSuffix, StringComparison.Ordinal) &&
                long.TryParse(name.AsSpan(at + marker.Length, name.Length - at - marker.Length - ObjectSuffix.Length),
                    System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence))
            {
                max = Math.Max(max, sequence);
            }
        }

        return max;
    }

    /// <summary>
    /// Reads the oldest batch; null when the file vanished, is unreadable, or is empty (what a power loss can make
    /// of a file renamed before its data reached the disk; the caller drops it rather than upload an empty object).
    /// </summary>
    /// <summary>
    /// Reads a batch file into a buffer from <see cref="ArrayPool{T}.Shared"/> (the caller returns it): a new array
    /// per batch would be a large-object-heap allocation (100 KB+) on every upload. Null: vanished, unreadable or empty.
    /// </summary>
    public static async Task<(byte[] Buffer, int Length)?> ReadPooledAsync(Entry entry)
    {
        byte[]? buffer = null;
        try
        {
            using var file = File.OpenHandle(entry.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                FileOptions.Asynchronous);
            var length = RandomAccess.GetLength(file);
            if (length is 0 or > int.MaxValue)
            {
                return null;
            }

            buffer = ArrayPool<byte>.Shared.Rent((int)length);
            var read = 0;
            while (read < length)
            {
                var n = await RandomAccess.ReadAsync(file, buffer.AsMemory(read, (int)length - read), read).ConfigureAwait(false);
                if (n == 0)
                {
                    break; // Shorter than its length said: another writer? Upload what is there.
                }

                read += n;
            }

            if (read == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return null;
            }

            return (buffer, read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return null;
        }
    }

    public static async Task<byte[]?> ReadAsync(Entry entry)
    {
        try
        {
            var data = await File.ReadAllBytesAsync(entry.Path).ConfigureAwait(false);
            return data.Length > 0 ? data : null;
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
        Volatile.Write(ref _oldestCutTicks, _entries.TryPeek(out var next) ? next.CutAt.UtcTicks : 0);
    }

    private void Push(Entry entry)
    {
        _entries.Enqueue(entry);
        Volatile.Write(ref _bytes, _bytes + entry.Length);
        Volatile.Write(ref _count, _entries.Count);
        if (_entries.Count == 1)
        {
            Volatile.Write(ref _oldestCutTicks, entry.CutAt.UtcTicks);
        }
    }

    private const string ObjectSuffix = ".jsonl.gz";

    /// <param name="Leftover">Found at start: written by an earlier process, which may have died (or lost power) mid-way.</param>
    internal sealed record Entry(string ObjectName, string Path, long Length, DateTimeOffset CutAt, bool Leftover);
}
