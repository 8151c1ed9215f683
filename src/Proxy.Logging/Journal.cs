using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Proxy.Logging;

/// <summary>
/// The open batch's JSON lines, appended to <c>&lt;spool&gt;/&lt;objectName&gt;.journal</c> as the batcher writes
/// them, so a process that dies (SIGKILL, OOM kill, crash) loses at most what was not yet written through. Plain
/// write(2) calls without fsync: the data is in the kernel's page cache, which outlives the process but not a
/// kernel crash or power loss. Owned by the batch loop (not thread-safe); the upload loop deletes a segment once
/// its batch is in the spool, and <see cref="ReadLines"/> replays leftovers at start.
/// </summary>
internal sealed class Journal : IDisposable
{
    public const string Suffix = ".journal";

    private SafeFileHandle? _handle;
    private string? _path;
    private long _length;

    /// <summary>The open segment's path; null when none is open or opening it failed.</summary>
    public string? Path => _path;

    /// <summary>Starts the segment of a new batch. Throws IOException or UnauthorizedAccessException.</summary>
    public void Open(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // Create, not CreateNew: a leftover of the same name was replayed (or dropped) before this run began.
        _handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete);
        _path = path;
        _length = 0;
    }

    /// <summary>Writes the bytes through to the kernel (one pwrite). No-op when no segment is open.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_handle is null || bytes.IsEmpty)
        {
            return;
        }

        RandomAccess.Write(_handle, bytes, _length);
        _length += bytes.Length;
    }

    /// <summary>Closes the segment (it stays on disk until its batch is spooled) and returns its path.</summary>
    public string? Close()
    {
        var path = _path;
        _handle?.Dispose();
        _handle = null;
        _path = null;
        return path;
    }

    /// <summary>Closes and deletes the segment: used when writing it failed half-way and it is abandoned.</summary>
    public void Abandon()
    {
        if (Close() is { } path)
        {
            AtomicFile.TryDelete(path);
        }
    }

    public void Dispose() => Close();

    /// <summary>
    /// The complete lines of a leftover segment: the tail after the last '\n' is a write the process died in the
    /// middle of, and a line that is not a JSON object (the zeros a file system can show after a power loss) is
    /// skipped. Returns the lines kept (each ending in '\n') and how many lines were lost (skipped, or torn).
    /// </summary>
    public static (byte[] Lines, int Lost) ReadLines(string path)
    {
        var data = File.ReadAllBytes(path);
        var end = data.AsSpan().LastIndexOf((byte)'\n') + 1;
        using var kept = new MemoryStream(end);
        var skipped = 0;
        var start = 0;
        while (start < end)
        {
            var next = start + data.AsSpan(start, end - start).IndexOf((byte)'\n') + 1;
            var line = data.AsSpan(start, next - start);
            if (IsJsonObject(line))
            {
                kept.Write(line);
            }
            else
            {
                skipped++;
            }

            start = next;
        }

        return (kept.ToArray(), skipped + (end < data.Length ? 1 : 0));
    }

    private static bool IsJsonObject(ReadOnlySpan<byte> line)
    {
        if (line.Length < 3 || line[0] != (byte)'{')
        {
            return false;
        }

        try
        {
            // Throws on anything that is not one whole JSON value (an incomplete one included).
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
