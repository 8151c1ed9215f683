using Proxy.Accounting;

namespace Proxy.Config;

/// <summary>
/// The request log: what it keeps of bodies (reloadable) and where batches go (read at start). The embedded
/// default writes gzipped JSON lines under ./logs.
/// </summary>
public sealed class LogSettings
{
    public bool Enabled { get; init; } = true;

    /// <summary>"local" (the default) writes objects under <see cref="Directory"/>; "s3" uploads them to <see cref="S3"/>.</summary>
    public string Sink { get; init; } = "local";

    public string Directory { get; init; } = "logs";

    /// <summary>Where batches wait while the sink fails; defaults to "&lt;directory&gt;-spool" beside it.</summary>
    public string? SpoolDirectory { get; init; }

    public BodyPolicy Bodies { get; init; } = BodyPolicy.Metadata;

    /// <summary>Per-body byte limit under <see cref="BodyPolicy.Capped"/>.</summary>
    public int BodyCapBytes { get; init; } = 16 * 1024;

    /// <summary>Bytes kept per body for this policy: 0 for metadata.</summary>
    public int BodyCap => Bodies switch
    {
        BodyPolicy.Metadata => 0,
        BodyPolicy.Capped => BodyCapBytes,
        _ => int.MaxValue,
    };

    public int MaxRecords { get; init; } = 1000;

    public long MaxBytes { get; init; } = 8 * 1024 * 1024;

    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(5);

    public long MaxSpoolBytes { get; init; } = 1L << 30;

    /// <summary>How long shutdown keeps uploading after in-flight requests finish; what is left stays in the spool.</summary>
    public TimeSpan ShutdownDeadline { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the open batch is written through to its journal in the spool: what a SIGKILL can lose.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>One upload attempt past this fails and is retried; a batch waiting past it is reported stalled.</summary>
    public TimeSpan UploadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The S3 (or S3-compatible) bucket, when <see cref="Sink"/> is "s3".</summary>
    public S3LogSettings? S3 { get; init; }

    /// <summary>The Azure Blob container, when <see cref="Sink"/> is "azure".</summary>
    public AzureLogSettings? Azure { get; init; }
}

/// <summary>logs.azure: the storage account and container, and exactly one way to authenticate.</summary>
public sealed class AzureLogSettings
{
    public required string Account { get; init; }
    public required string Container { get; init; }

    /// <summary>Blob endpoint override (Azurite, sovereign clouds); default https://ACCOUNT.blob.core.windows.net.</summary>
    public string? Endpoint { get; init; }
    public string? AccountKey { get; init; }
    public string? SasToken { get; init; }
    public bool ManagedIdentity { get; init; }

    /// <summary>For a user-assigned managed identity.</summary>
    public string? ClientId { get; init; }
}

/// <summary>logs.s3: where and how objects are uploaded. Credentials default to the AWS SDK chain (env, IRSA, instance role).</summary>
public sealed class S3LogSettings
{
    public required string Bucket { get; init; }
    public string? Region { get; init; }

    /// <summary>Endpoint of an S3-compatible store (MinIO, GCS interoperability, s3rver); only ever from config.</summary>
    public string? Endpoint { get; init; }
    public bool PathStyle { get; init; }

    /// <summary>"none", "AES256" (SSE-S3) or "aws:kms" (SSE-KMS with <see cref="KmsKeyId"/>).</summary>
    public string Sse { get; init; } = "none";
    public string? KmsKeyId { get; init; }

    /// <summary>Plain PUTs with checksums only when required, for stores that do not decode aws-chunked uploads (GCS interop).</summary>
    public bool Compatibility { get; init; }
    public string? AccessKeyId { get; init; }
    public string? SecretAccessKey { get; init; }
    public string? SessionToken { get; init; }
}
