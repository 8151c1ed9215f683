namespace Proxy.Logging;

/// <summary>
/// Where finished log objects go (local directory, S3, Azure Blob...). The batcher owns batching, retries and
/// spooling, so a sink only has to store one object per call.
/// </summary>
public interface ILogSink
{
    /// <summary>Short name for metrics and diagnostics ("local", "s3"...).</summary>
    string Name { get; }

    /// <summary>
    /// Stores <paramref name="gzippedJsonLines"/> under <paramref name="objectName"/>. Must be idempotent for one
    /// name: the batcher retries a batch under the same name after a failure or a timeout, and the retry must
    /// overwrite, not duplicate. Throw on failure; honour <paramref name="ct"/> (the batcher also stops waiting
    /// on its own when the upload times out). The memory is only valid until the returned task completes.
    /// </summary>
    Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct);
}
