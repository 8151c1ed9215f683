namespace Proxy.Logging;

/// <summary>Write-then-rename, so a reader (or a restart scanning the spool) never sees half an object.</summary>
internal static class AtomicFile
{
    /// <summary>Suffix of in-progress files; a crash can leave them behind, and scans skip and delete them.</summary>
    public const string TempSuffix = ".tmp";

    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // Same directory as the target so the rename stays on one file system (rename is atomic only there).
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix;
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                bufferSize: 1, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(data, ct).ConfigureAwait(false);
                // fsync before the rename: otherwise a power loss can leave a renamed but empty file.
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
