namespace Proxy.Logging.S3;

/// <summary>Server-side encryption requested for every uploaded object.</summary>
public enum S3ServerSideEncryption
{
    /// <summary>No header: the bucket's default encryption applies (S3 encrypts with SSE-S3 by default since 2023).</summary>
    None,

    /// <summary>SSE-S3: <c>x-amz-server-side-encryption: AES256</c>.</summary>
    Aes256,

    /// <summary>SSE-KMS: <c>x-amz-server-side-encryption: aws:kms</c> with <see cref="S3SinkOptions.KmsKeyId"/>.</summary>
    AwsKms,
}

/// <summary>
/// Settings of <see cref="S3LogSink"/>. Plain settable properties so configuration binding (including the
/// source-generated binder) can fill it. Object names arrive complete from the caller (prefix included).
/// </summary>
public sealed class S3SinkOptions
{
    /// <summary>Bucket name (required).</summary>
    public string Bucket { get; set; } = "";

    /// <summary>AWS region, e.g. <c>eu-west-1</c>. Empty: the SDK's region chain (AWS_REGION, profile, IMDS);
    /// with <see cref="ServiceUrl"/> set and no region, <c>us-east-1</c> is used for signing.</summary>
    public string? Region { get; set; }

    /// <summary>Endpoint override for S3-compatible stores (GCS interop <c>https://storage.googleapis.com</c>,
    /// MinIO, s3rver in tests). Empty: the AWS endpoint of <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Path-style addressing (<c>https://host/bucket/key</c>); needed by most S3-compatible stores.</summary>
    public bool ForcePathStyle { get; set; }

    public S3ServerSideEncryption ServerSideEncryption { get; set; } = S3ServerSideEncryption.None;

    /// <summary>KMS key id or ARN; required when <see cref="ServerSideEncryption"/> is <see cref="S3ServerSideEncryption.AwsKms"/>.</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>Explicit static credentials. Leave all three empty to use the SDK's default chain
    /// (environment variables, web identity / IRSA via AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, profile,
    /// ECS/EC2 instance roles).</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    public string? SessionToken { get; set; }

    /// <summary>
    /// S3-compatible mode: no aws-chunked (streaming SigV4) upload bodies and checksum calculation/validation only
    /// "when required". AWSSDK.S3 4.x otherwise sends aws-chunked bodies with a trailing CRC32 which GCS
    /// interoperability, s3rver and other older S3 clones do not understand. Leave off for AWS S3.
    /// </summary>
    public bool Compatibility { get; set; }

    /// <summary>Per-attempt HTTP timeout (SDK <c>Timeout</c>). Null: the SDK default.</summary>
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>SDK-internal retries per upload. Null: the SDK default. The batcher retries on its own, so a low
    /// value (0-2) keeps one upload bounded in time.</summary>
    public int? MaxErrorRetry { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, or returns when the options are usable.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            errors.Add("S3 log sink: Bucket is required.");
        }

        if (!Enum.IsDefined(ServerSideEncryption))
        {
            errors.Add($"S3 log sink: unknown ServerSideEncryption '{(int)ServerSideEncryption}'.");
        }

        if (ServerSideEncryption == S3ServerSideEncryption.AwsKms && string.IsNullOrWhiteSpace(KmsKeyId))
        {
            errors.Add("S3 log sink: ServerSideEncryption aws:kms requires KmsKeyId.");
        }

        if (ServerSideEncryption != S3ServerSideEncryption.AwsKms && !string.IsNullOrWhiteSpace(KmsKeyId))
        {
            errors.Add("S3 log sink: KmsKeyId is set but ServerSideEncryption is not aws:kms.");
        }

        var hasKey = !string.IsNullOrEmpty(AccessKeyId);
        var hasSecret = !string.IsNullOrEmpty(SecretAccessKey);
        if (hasKey != hasSecret)
        {
            errors.Add("S3 log sink: AccessKeyId and SecretAccessKey must be given together (or neither, for the default credential chain).");
        }

        if (!hasKey && !string.IsNullOrEmpty(SessionToken))
        {
            errors.Add("S3 log sink: SessionToken requires AccessKeyId and SecretAccessKey.");
        }

        if (!string.IsNullOrEmpty(ServiceUrl)
            && (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"S3 log sink: ServiceUrl '{ServiceUrl}' is not an absolute http(s) URL.");
        }

        if (RequestTimeout is { } t && t <= TimeSpan.Zero)
        {
            errors.Add("S3 log sink: RequestTimeout must be positive.");
        }

        if (MaxErrorRetry is < 0)
        {
            errors.Add("S3 log sink: MaxErrorRetry must not be negative.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors));
        }
    }

    /// <summary>Diagnostic text without secrets (the access key id is shown only by its last 4 characters).</summary>
    public override string ToString() =>
        $"bucket={Bucket} region={Region ?? "(chain)"} serviceUrl={ServiceUrl ?? "(aws)"} pathStyle={ForcePathStyle} " +
        $"sse={ServerSideEncryption} compatibility={Compatibility} credentials=" +
        (string.IsNullOrEmpty(AccessKeyId) ? "default-chain" : $"static(...{Tail(AccessKeyId)}{(string.IsNullOrEmpty(SessionToken) ? "" : "+session")})");

    private static string Tail(string s) => s.Length <= 4 ? "" : s[^4..];
}
