namespace Proxy.Logging;

/// <summary>
/// The embedded default sink: each object becomes <c>&lt;root&gt;/&lt;objectName&gt;</c>, written atomically
/// (temp file in the same directory, fsync, rename), so a retry simply replaces the file.
/// </summary>
public sealed class LocalDirectorySink : ILogSink
{
    private readonly string _root;

    public LocalDirectorySink(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
    }

    public string Name => "local";

    public string Root => _root;

    public Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct) =>
        AtomicFile.WriteAsync(ObjectPath.Resolve(_root, objectName), gzippedJsonLines, ct);
}
