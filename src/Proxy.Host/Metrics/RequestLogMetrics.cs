using Proxy.Logging;
using Proxy.Metrics;

namespace Proxy.Host.Metrics;

/// <summary>The request log pipeline's counters, read from the batcher at scrape time.</summary>
internal sealed class RequestLogMetrics(LogBatcher batcher) : IMetricsSource
{
    private static readonly byte[] Accepted = "result=\"accepted\""u8.ToArray();
    private static readonly byte[] Dropped = "result=\"dropped\""u8.ToArray();

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
        w.Counter(MetricNames.LogUploadFailures, "Failed upload attempts (each is retried; the batch waits in the spool).");
        w.CounterSample(MetricNames.LogUploadFailures, sink, batcher.UploadFailures);
        w.Gauge(MetricNames.LogSpoolBatches, "Batches waiting in the local spool for the sink to come back.");
        w.GaugeSample(MetricNames.LogSpoolBatches, sink, batcher.SpoolPendingBatches);
        w.Gauge(MetricNames.LogSpoolBytes, "Bytes waiting in the local spool.");
        w.GaugeSample(MetricNames.LogSpoolBytes, sink, batcher.SpoolPendingBytes);
        w.Counter(MetricNames.LogSpoolDropped, "Batches the full spool dropped (oldest first): records lost.");
        w.CounterSample(MetricNames.LogSpoolDropped, sink, batcher.SpoolDroppedBatches);
    }
}
