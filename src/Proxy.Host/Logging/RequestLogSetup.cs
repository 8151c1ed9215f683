using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Accounting;
using Proxy.Config;
using Proxy.Logging;
using Proxy.Logging.Azure;
using Proxy.Logging.S3;

namespace Proxy.Host.Logging;

/// <summary>Builds the request log from the config's <c>logs</c> section: the batcher and its sink.</summary>
internal static class RequestLogSetup
{
    /// <param name="observer">Sees every record (the control plane's usage rollups): on the batch loop, or with the
    /// log off, as the record is written.</param>
    public static IRequestLog Create(LogSettings settings, TimeProvider time, Action<RequestRecord>? observer = null)
    {
        if (!settings.Enabled) return observer is null ? DisabledRequestLog.Instance : new ObservedRequestLog(observer);
        var directory = Path.GetFullPath(settings.Directory);
        ILogSink sink = settings.Sink switch
        {
            "s3" when settings.S3 is { } s3 => new S3LogSink(S3Options(s3)),
            "azure" when settings.Azure is { } azure => new AzureBlobLogSink(AzureOptions(azure)),
            _ => new LocalDirectorySink(directory),
        };
        return new LogBatcher(sink, new LogBatcherOptions
        {
            MaxRecords = settings.MaxRecords,
            MaxBytes = settings.MaxBytes,
            MaxAge = settings.MaxAge,
            // A sibling, not a subfolder: readers that scan the log directory must not see spooled copies.
            SpoolDirectory = Path.GetFullPath(settings.SpoolDirectory ?? directory.TrimEnd('/') + "-spool"),
            // The pod name in Kubernetes, so objects say which replica wrote them.
            Instance = Environment.GetEnvironmentVariable("HOSTNAME") is { Length: > 0 } host ? host : Environment.MachineName,
            MaxSpoolBytes = settings.MaxSpoolBytes,
            ShutdownDeadline = settings.ShutdownDeadline,
            FlushInterval = settings.FlushInterval,
            UploadTimeout = settings.UploadTimeout,
            OnRecord = observer,
        }, time);
    }

    private static AzureBlobSinkOptions AzureOptions(AzureLogSettings a)
    {
        var options = new AzureBlobSinkOptions
        {
            AccountName = a.Account,
            Container = a.Container,
            Endpoint = a.Endpoint,
            AccountKey = a.AccountKey,
            SasToken = a.SasToken,
            ManagedIdentity = a.ManagedIdentity,
            ManagedIdentityClientId = a.ClientId,
        };
        options.Validate();
        return options;
    }

    private static S3SinkOptions S3Options(S3LogSettings s)
    {
        var options = new S3SinkOptions
        {
            Bucket = s.Bucket,
            Region = s.Region,
            ServiceUrl = s.Endpoint,
            ForcePathStyle = s.PathStyle,
            ServerSideEncryption = s.Sse switch
            {
                "AES256" => S3ServerSideEncryption.Aes256,
                "aws:kms" => S3ServerSideEncryption.AwsKms,
                _ => S3ServerSideEncryption.None,
            },
            KmsKeyId = s.KmsKeyId,
            Compatibility = s.Compatibility,
            AccessKeyId = s.AccessKeyId,
            SecretAccessKey = s.SecretAccessKey,
            SessionToken = s.SessionToken,
        };
        options.Validate();
        return options;
    }
}

/// <summary>logs.enabled: false. Records are not kept; nothing is counted as dropped because nothing was accepted.</summary>
internal sealed class DisabledRequestLog : IRequestLog
{
    public static readonly DisabledRequestLog Instance = new();

    public bool TryWrite(RequestRecord record) => true;
}

/// <summary>logs.enabled: false with usage rollups on: records are only counted into the rollups (a dictionary update).</summary>
internal sealed class ObservedRequestLog(Action<RequestRecord> observer) : IRequestLog
{
    public bool TryWrite(RequestRecord record)
    {
        try
        {
            observer(record);
        }
        catch (Exception)
        {
            // Usage accounting never fails a request.
        }
        return true;
    }
}

/// <summary>
/// Drains the request log on shutdown. StoppedAsync runs after every hosted service has stopped, Kestrel's
/// drain of in-flight requests included, so the records of requests that finish during shutdown are kept too.
/// </summary>
internal sealed partial class RequestLogLifetime(IRequestLog log, ILogger<RequestLogLifetime> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (log is not LogBatcher batcher) return;
        // Bounded by the host's shutdown deadline: what cannot be uploaded in time stays in the spool for the next start.
        await batcher.StopAsync(cancellationToken);
        await batcher.DisposeAsync();
        LogDrained(logger, batcher.Enqueued, batcher.BatchesUploaded, batcher.SpoolPendingBatches, batcher.Dropped);
    }

    [LoggerMessage(20, LogLevel.Information, "Request log drained: {Records} records accepted, {Batches} batches uploaded, {Spooled} batches left in the spool, {Dropped} dropped")]
    private static partial void LogDrained(ILogger logger, long records, long batches, int spooled, long dropped);
}
