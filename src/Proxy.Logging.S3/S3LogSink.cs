using System.Net;
using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.RuntimeDependencies;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;

namespace Proxy.Logging.S3;

/// <summary>
/// Stores each log object with one PutObject. The same object name always maps to the same key, so a retry
/// overwrites (S3 PUT is last-writer-wins) instead of duplicating. Works with AWS S3 and with S3-compatible
/// stores (GCS interoperability, MinIO, s3rver) through <see cref="S3SinkOptions.ServiceUrl"/> and
/// <see cref="S3SinkOptions.Compatibility"/>.
/// </summary>
public sealed class S3LogSink : ILogSink, IDisposable
{
    // The object is a gzip file, stored byte for byte: ContentType application/gzip and NO Content-Encoding.
    // With "Content-Encoding: gzip" (+ application/x-ndjson), HTTP clients and stores transparently decompress on
    // download (browsers, curl --compressed, GCS decompressive transcoding, CloudFront), so a reader of "x.jsonl.gz"
    // would sometimes get plain text and sometimes gzip, and ranged reads/ETags refer to different bytes. Log
    // tooling (Athena, Spark, Vector, aws s3 cp | zcat) detects compression from the .gz name, not the header.
    internal const string ContentType = "application/gzip";

    private static int s_stsRegistered;
    private static int s_stsClientsCreated;

    private readonly S3SinkOptions _options;
    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;

    public S3LogSink(S3SinkOptions options)
        : this(options, CreateClient(options), ownsClient: true)
    {
    }

    /// <summary>Uses a caller-made client (tests, or a host that shares one client); the caller disposes it.</summary>
    public S3LogSink(S3SinkOptions options, IAmazonS3 client)
        : this(options, client, ownsClient: false)
    {
    }

    private S3LogSink(S3SinkOptions options, IAmazonS3 client, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        options.Validate();
        _options = options;
        _client = client;
        _ownsClient = ownsClient;
    }

    public string Name => "s3";

    public S3SinkOptions Options => _options;

    public async Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(objectName);
        var bucket = _options.Bucket;
        var key = objectName.TrimStart('/');

        // A seekable stream over the caller's buffer (no copy when it is array-backed): the SDK rewinds it for its
        // own retries and for the payload hash when chunk encoding is off.
        using var body = MemoryMarshal.TryGetArray(gzippedJsonLines, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(gzippedJsonLines.ToArray(), writable: false);

        var request = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            AutoResetStreamPosition = true,
            ContentType = ContentType,
        };
        request.Headers.ContentLength = gzippedJsonLines.Length;

        if (_options.Compatibility)
        {
            // s3rver / GCS interop do not decode "Content-Encoding: aws-chunked" streaming bodies: send a plain body
            // signed with its SHA-256 instead (together with RequestChecksumCalculation.WHEN_REQUIRED on the client).
            request.UseChunkEncoding = false;
        }

        switch (_options.ServerSideEncryption)
        {
            case S3ServerSideEncryption.Aes256:
                request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AES256;
                break;
            case S3ServerSideEncryption.AwsKms:
                request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS;
                request.ServerSideEncryptionKeyManagementServiceKeyId = _options.KmsKeyId;
                break;
        }

        try
        {
            await _client.PutObjectAsync(request, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (AmazonServiceException ex)
        {
            var status = ex.StatusCode == 0 ? (HttpStatusCode?)null : ex.StatusCode;
            throw new S3LogSinkException(bucket, key, status, ex.ErrorCode,
                $"S3 upload to bucket '{bucket}' key '{key}' failed: " +
                (status is { } s ? $"HTTP {(int)s} {s}" : "no HTTP response") +
                (string.IsNullOrEmpty(ex.ErrorCode) ? "" : $" {ex.ErrorCode}") +
                $": {Describe(ex)}", ex);
        }
        catch (Exception ex)
        {
            // Connection refused, DNS, TLS, credential resolution (AmazonClientException), or the SDK's own timeout
            // (TimeoutException / TaskCanceledException while the caller's token is still live).
            var what = ex is OperationCanceledException or TimeoutException
                ? "timed out, no HTTP response"
                : $"no HTTP response ({ex.GetType().Name})";
            throw new S3LogSinkException(bucket, key, null, null,
                $"S3 upload to bucket '{bucket}' key '{key}' at {Endpoint()} failed: {what}: {Describe(ex)}", ex);
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private string Endpoint() =>
        string.IsNullOrEmpty(_options.ServiceUrl) ? $"AWS region {_options.Region ?? "(default chain)"}" : _options.ServiceUrl!;

    private static string Describe(Exception ex)
    {
        // The innermost message is usually the informative one ("Connection refused (127.0.0.1:9)").
        var msg = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!string.IsNullOrEmpty(inner.Message)
                && !inner.Message.StartsWith("Exception of type ", StringComparison.Ordinal)
                && !msg.Contains(inner.Message, StringComparison.Ordinal))
            {
                msg += " -> " + inner.Message;
            }
        }

        return msg;
    }

    /// <summary>Builds the SDK client for <paramref name="options"/>. Public so hosts can build one shared client.</summary>
    public static AmazonS3Client CreateClient(S3SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        EnsureWebIdentitySupport();

        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
        };

        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            // Signing region for the override endpoint; must be set after ServiceURL (which clears RegionEndpoint).
            config.AuthenticationRegion = string.IsNullOrEmpty(options.Region) ? "us-east-1" : options.Region;
        }
        else if (!string.IsNullOrEmpty(options.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        if (options.Compatibility)
        {
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }

        if (options.RequestTimeout is { } timeout)
        {
            config.Timeout = timeout;
        }

        if (options.MaxErrorRetry is { } retries)
        {
            config.MaxErrorRetry = retries;
        }

        if (!string.IsNullOrEmpty(options.AccessKeyId))
        {
            AWSCredentials credentials = string.IsNullOrEmpty(options.SessionToken)
                ? new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey)
                : new SessionAWSCredentials(options.AccessKeyId, options.SecretAccessKey, options.SessionToken);
            return new AmazonS3Client(credentials, config);
        }

        // Default chain: environment (AWS_ACCESS_KEY_ID...), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN,
        // i.e. EKS IRSA), shared profile, ECS container and EC2 instance credentials.
        return new AmazonS3Client(config);
    }

    /// <summary>
    /// Web identity (IRSA) credentials call STS AssumeRoleWithWebIdentity. AWSSDK.Core finds the STS client by
    /// reflection (Assembly.Load of AWSSDK.SecurityToken), which Native AOT cannot do, so register it explicitly
    /// (the documented AOT path: GlobalRuntimeDependencyRegistry). STS is called with anonymous credentials.
    /// </summary>
    /// <summary>How many STS clients the registered factory made (tests check the AOT path is the one taken).</summary>
    internal static int StsClientsCreated => Volatile.Read(ref s_stsClientsCreated);

    internal static void EnsureWebIdentitySupport()
    {
        if (Interlocked.Exchange(ref s_stsRegistered, 1) == 1)
        {
            return;
        }

        GlobalRuntimeDependencyRegistry.Instance.RegisterSecurityTokenServiceClient(static context =>
        {
            var data = context.SecurityTokenServiceClientContextData;
            var config = new AmazonSecurityTokenServiceConfig();
            if (data?.Region is { } region)
            {
                config.RegionEndpoint = region;
            }

            if (data?.ProxySettings is { } proxy)
            {
                config.SetWebProxy(proxy);
            }

            Interlocked.Increment(ref s_stsClientsCreated);
            return new AmazonSecurityTokenServiceClient(new AnonymousAWSCredentials(), config);
        });
    }
}
