using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Proxy.Logging;

/// <summary>
/// The open batch's object, written as it grows: at each flush the lines added since the last one are compressed
/// into the batch's gzip stream with a sync flush (so everything up to it decodes) and the new compressed bytes are
/// written through to <c>&lt;spool&gt;/&lt;objectName&gt;.journal</c>. At the cut the gzip trailer follows and the
/// batcher renames the segment to the batch's spool file: the journal IS the batch file being written, so the
/// data reaches the disk once, compressed, and the cut's compression is not extra work. Plain write(2) calls,
/// no fsync: the data is in the kernel's page cache, which outlives the process (SIGKILL, OOM kill) but not a
/// kernel crash or power loss. A file error stops the writing (the batch carries on in memory) and is counted.
/// Owned by the batch loop; not thread-safe.
/// </summary>
internal sealed class Journal(Action<Exception> onError) : IDisposable
{
    public const string Suffix = ".journal";

    // One buffer for every batch: once the finished segment is renamed into the spool, the upload reads the file,
    // so the bytes are not needed after the cut (Cut copies them in the rare case the segment could not be kept).
    // A buffer per batch would put a large-object-heap allocation (100 KB+) on every cut.
    private readonly MemoryStream _compressed = new(16 * 1024);
    private GZipStream? _gzip;
    private SafeFileHandle? _handle;
    private string? _path;
    private bool _failed;
    private long _errors;

    /// <summary>Segments that could not be created, written or renamed into the spool.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Starts the stream of a new batch and, if the disk lets it, its segment at <paramref name="path"/>.</summary>
    public void Open(string path)
    {
        _compressed.SetLength(0);
        _gzip = new GZipStream(_compressed, CompressionLevel.Fastest, leaveOpen: true);
        _path = path;
        _failed = false;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Create, not CreateNew: a leftover of this name could only be one the start-up replay failed to delete.
            _handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fail(ex);
        }
    }

    /// <summary>Compresses <paramref name="lines"/> into the batch and writes the new compressed bytes through (one pwrite).</summary>
    public void Flush(ReadOnlySpan<byte> lines)
    {
        var written = _compressed.Length;
        _gzip!.Write(lines);
        _gzip.Flush(); // A sync flush: all input so far is in the output, decodable without what follows.
        WriteThrough(written);
    }

    /// <summary>
    /// Ends the batch: the rest of the lines, the gzip trailer, and the segment closed. Returns the batch's gzip bytes
    /// (the journal's own buffer: valid until the next <see cref="Open"/>), the segment's path (null if it was never
    /// created), and whether the segment holds the whole batch.
    /// </summary>
    public (ReadOnlyMemory<byte> Data, string? Path, bool Complete) Finish(ReadOnlySpan<byte> lines)
    {
        var written = _compressed.Length;
        _gzip!.Write(lines);
        _gzip.Dispose(); // Final block and trailer.
        _gzip = null;
        WriteThrough(written);
        var complete = _handle is not null;
        _handle?.Dispose();
        _handle = null;
        var path = _path;
        _path = null;
        return (new ReadOnlyMemory<byte>(_compressed.GetBuffer(), 0, (int)_compressed.Length), path, complete);
    }

    /// <summary>Stops writing the segment and counts the error (also for a finished one whose rename failed).</summary>
    public void Fail(Exception ex)
    {
        _failed = true;
        _handle?.Dispose();
        _handle = null;
        Interlocked.Increment(ref _errors);
        onError(ex);
    }

    public void Dispose()
    {
        _gzip?.Dispose();
        _handle?.Dispose();
    }

    private void WriteThrough(long from)
    {
        if (_handle is null || _failed)
        {
            return;
        }

        try
        {
            RandomAccess.Write(_handle, new ReadOnlySpan<byte>(_compressed.GetBuffer(), (int)from, (int)(_compressed.Length - from)), from);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Disk full or gone: the rest of this batch is not crash-safe (what was written still is).
            Fail(ex);
        }
    }

    /// <summary>
    /// What can be read back from a gzip file a dead process left (a journal segment, or a spool file a power loss
    /// may have cut short): the complete JSON lines up to where decoding stops, the number of lines lost (a torn last
    /// line, a line that is not a JSON object), and whether the file was whole (its trailer matches the data).
    /// </summary>
    public static (byte[] Lines, int Lost, bool Intact) Salvage(byte[] gz)
    {
        var output = new MemoryStream((int)Math.Min(gz.Length * 6L, 64L << 20));
        var intact = gz.Length >= 18;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
            // Small reads: a read that fails loses what it had decoded, and this keeps that to a few lines.
            var buffer = new byte[4096];
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException)
        {
            intact = false; // Corrupt data or a wrong checksum: keep what decoded before it.
        }

        // A cut-short stream simply ends (no error): it is whole only if its trailer is there and counts the data.
        intact = intact && BinaryPrimitives.ReadUInt32LittleEndian(gz.AsSpan(gz.Length - 4)) == (uint)output.Length;
        var data = output.GetBuffer().AsSpan(0, (int)output.Length);
        var end = data.LastIndexOf((byte)'\n') + 1;
        var lost = end < data.Length ? 1 : 0;
        using var kept = new MemoryStream(end);
        for (var start = 0; start < end;)
        {
            var next = start + data[start..end].IndexOf((byte)'\n') + 1;
            var line = data[start..next];
            if (IsJsonObject(line))
            {
                kept.Write(line);
            }
            else
            {
                lost++;
            }

            start = next;
        }

        return (kept.ToArray(), lost, intact && lost == 0);
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
