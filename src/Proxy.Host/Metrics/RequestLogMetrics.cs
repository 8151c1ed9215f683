using Proxy.Logging;
using Proxy.Metrics;

namespace Proxy.Host.Metrics;

/// <summary>The request log pipeline's counters, read from the batcher at scrape time.</summary>
internal sealed class RequestLogMetrics(LogBatcher batcher) : IMetricsSource
{
    private static readonly byte[] Accepted = "result=\"accepted\""u8.ToArray();
    private static readonly byte[] Dropped = "result=\"dropped\""u8.ToArray();
    private static readonly byte[] Recovered = "result=\"recovered\""u8.ToArray();
    private static readonly byte[] Lost = "result=\"lost\""u8.ToArray();

    public void Write(ExpositionWriter w)
    {
        byte[] sink = System.Text.Encoding.UTF8.GetBytes($"sink=\"{batcher.SinkName}\"");
        w.Counter(MetricNames.LogRecords, "Request records handed to the log: accepted, or dropped (queue full or stopping).");
        w.CounterSample(MetricNames.LogRecords, sink, batcher.Enqueued, Accepted);
        w.CounterSample(MetricNames.LogRecords, sink, batcher.Dropped, Dropped);
        w.Gauge(MetricNames.LogQueued, "Records accepted and not yet in a batch.");
        w.GaugeSample(MetricNames.LogQueued, sink, batcher.Queued);
        w.Counter(MetricNames.LogBatchesUploaded, "Batches (objects) the sink stored.");
        w.CounterSample(MetricNames.LogBatchesUploaded, sink, batcher.BatchesUploaded);
        w.Counter(MetricNames.LogBytesUploaded, "Compressed bytes the sink stored.");
        w.CounterSample(MetricNames.LogBytesUploaded, sink, batcher.BytesUploaded);
        w.Counter(MetricNames.LogUploadFailures, "Failed or timed-out upload attempts (each is retried; the batch waits in the spool).");
        w.CounterSample(MetricNames.LogUploadFailures, sink, batcher.UploadFailures);
        w.Gauge(MetricNames.LogSpoolBatches, "Batches in the local spool: cut and not yet uploaded (every batch passes through it).");
        w.GaugeSample(MetricNames.LogSpoolBatches, sink, batcher.SpoolPendingBatches);
        w.Gauge(MetricNames.LogSpoolBytes, "Bytes in the local spool.");
        w.GaugeSample(MetricNames.LogSpoolBytes, sink, batcher.SpoolPendingBytes);
        w.Counter(MetricNames.LogSpoolDropped, "Batches the full spool dropped (oldest first): records lost.");
        w.CounterSample(MetricNames.LogSpoolDropped, sink, batcher.SpoolDroppedBatches);
        w.Gauge(MetricNames.LogOldestPending, "Age of the oldest batch cut and not yet uploaded; 0 when none waits.");
        w.GaugeSample(MetricNames.LogOldestPending, sink, batcher.OldestPendingAge.TotalSeconds);
        w.Gauge(MetricNames.LogUploadStalled, "How long the batch at the head of the upload queue has gone without being stored, once past the upload timeout; 0 otherwise.");
        w.GaugeSample(MetricNames.LogUploadStalled, sink, batcher.StalledFor.TotalSeconds);
        w.Counter(MetricNames.LogJournalErrors, "Journal segments that could not be opened or written (disk full, read-only): those batches were not crash-safe.");
        w.CounterSample(MetricNames.LogJournalErrors, sink, batcher.JournalErrors);
        w.Counter(MetricNames.LogRecovered, "Records replayed at start from the journal of a run that died (recovered), and lines of it lost (cut short or unreadable).");
        w.CounterSample(MetricNames.LogRecovered, sink, batcher.RecoveredRecords, Recovered);
        w.CounterSample(MetricNames.LogRecovered, sink, batcher.RecoveryLostLines, Lost);
    }
}
