namespace Proxy.Logging;

/// <summary>Tuning for <see cref="LogBatcher"/>. Defaults suit a production gateway; tests shrink the times.</summary>
public sealed record LogBatcherOptions
{
    /// <summary>
    /// Sees every record the batch loop takes, on that loop (off the request path): e.g. the control plane's usage
    /// rollups, fed from the same records the log gets. It must be quick and must not throw (a throw is swallowed).
    /// </summary>
    public Action<Proxy.Accounting.RequestRecord>? OnRecord { get; init; }

    /// <summary>Cut an object after this many records.</summary>
    public int MaxRecords { get; init; } = 1000;

    /// <summary>Cut an object once its uncompressed JSON lines reach this size (it may exceed it by one record).</summary>
    public long MaxBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>Cut an object this long after its first record was taken from the queue, so quiet periods still flush.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the open batch's new lines are compressed and written through to its journal segment in the spool
    /// directory (at least this often, with or without new records): what a SIGKILL or an OOM kill can lose.
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>First path segment of every object name.</summary>
    public string Prefix { get; init; } = "requests";

    /// <summary>
    /// Names this process in object names and in each line's "instance" field. Must be unique among processes
    /// that run at the same time (a pod name is fine); the batcher appends its start time so a restart never
    /// reuses a name. Default: machine name plus a short random suffix.
    /// </summary>
    public string Instance { get; init; } = DefaultInstance();

    /// <summary>
    /// Where every batch is written (as its journal segment while open, as a file once cut) until the sink has it,
    /// and where shutdown leaves what it could not upload. What is found here at start-up (left by a crash or an
    /// outage) is uploaded first. Belongs to one process.
    /// </summary>
    public string SpoolDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "proxy-log-spool");

    /// <summary>Spool bound: when a new batch would exceed it, the oldest spooled batches are dropped (and counted).</summary>
    public long MaxSpoolBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>How long shutdown may keep uploading; what is left after it stays in the spool.</summary>
    public TimeSpan ShutdownDeadline { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// One upload attempt longer than this counts as failed, so a hung sink cannot hang the batcher; once the batch
    /// at the head of the upload queue has gone this long without being stored (through any number of attempts),
    /// <see cref="LogBatcher.StalledFor"/> reports it.
    /// </summary>
    public TimeSpan UploadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First retry delay after a failed upload; doubles per consecutive failure, with jitter.</summary>
    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap on the retry delay.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Records the producer queue holds (rounded up to a power of two); beyond it records are dropped.</summary>
    public int QueueCapacity { get; init; } = 32 * 1024;

    private static string DefaultInstance() =>
        Environment.MachineName + "-" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant();
}
