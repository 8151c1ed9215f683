using Prometheus;
using Proxy.Logging;
using Proxy.Metrics;

namespace Proxy.Host.Metrics;

/// <summary>The request log pipeline's counters, read from the batcher at scrape time.</summary>
internal sealed class RequestLogMetrics(LogBatcher batcher) : IMetricsSource
{
    private Prometheus.Counter.Child _accepted = null!, _dropped = null!, _uploaded = null!, _bytes = null!, _failures = null!, _spoolDropped = null!,
        _journalErrors = null!, _recovered = null!, _lost = null!;
    private Prometheus.Gauge.Child _queued = null!, _spoolBatches = null!, _spoolBytes = null!, _oldest = null!, _stalled = null!;

    public void Register(IMetricFactory f)
    {
        var sink = batcher.SinkName;
        var records = f.CreateCounter(MetricNames.LogRecords + "_total", "Request records handed to the log: accepted, or dropped (queue full or stopping).", ["sink", "result"]);
        _accepted = records.WithLabels(sink, "accepted");
        _dropped = records.WithLabels(sink, "dropped");
        _queued = Gauge(f, MetricNames.LogQueued, "Records accepted and not yet in a batch.", sink);
        _uploaded = Counter(f, MetricNames.LogBatchesUploaded, "Batches (objects) the sink stored.", sink);
        _bytes = Counter(f, MetricNames.LogBytesUploaded, "Compressed bytes the sink stored.", sink);
        _failures = Counter(f, MetricNames.LogUploadFailures, "Failed or timed-out upload attempts (each is retried; the batch waits in the spool).", sink);
        _spoolBatches = Gauge(f, MetricNames.LogSpoolBatches, "Batches in the local spool: cut and not yet uploaded (every batch passes through it).", sink);
        _spoolBytes = Gauge(f, MetricNames.LogSpoolBytes, "Bytes in the local spool.", sink);
        _spoolDropped = Counter(f, MetricNames.LogSpoolDropped, "Batches the full spool dropped (oldest first): records lost.", sink);
        _oldest = Gauge(f, MetricNames.LogOldestPending, "Age of the oldest batch cut and not yet uploaded; 0 when none waits.", sink);
        _stalled = Gauge(f, MetricNames.LogUploadStalled,
            "How long the batch at the head of the upload queue has gone without being stored, once past the upload timeout; 0 otherwise.", sink);
        _journalErrors = Counter(f, MetricNames.LogJournalErrors,
            "Journal segments that could not be opened or written (disk full, read-only): those batches were not crash-safe.", sink);
        var recovered = f.CreateCounter(MetricNames.LogRecovered + "_total",
            "Records replayed at start from the journal of a run that died (recovered), and lines of it lost (cut short or unreadable).", ["sink", "result"]);
        _recovered = recovered.WithLabels(sink, "recovered");
        _lost = recovered.WithLabels(sink, "lost");
    }

    public void Update()
    {
        _accepted.IncTo(batcher.Enqueued);
        _dropped.IncTo(batcher.Dropped);
        _queued.Set(batcher.Queued);
        _uploaded.IncTo(batcher.BatchesUploaded);
        _bytes.IncTo(batcher.BytesUploaded);
        _failures.IncTo(batcher.UploadFailures);
        _spoolBatches.Set(batcher.SpoolPendingBatches);
        _spoolBytes.Set(batcher.SpoolPendingBytes);
        _spoolDropped.IncTo(batcher.SpoolDroppedBatches);
        _oldest.Set(batcher.OldestPendingAge.TotalSeconds);
        _stalled.Set(batcher.StalledFor.TotalSeconds);
        _journalErrors.IncTo(batcher.JournalErrors);
        _recovered.IncTo(batcher.RecoveredRecords);
        _lost.IncTo(batcher.RecoveryLostLines);
    }

    private static Prometheus.Counter.Child Counter(IMetricFactory f, string name, string help, string sink) =>
        f.CreateCounter(name + "_total", help, ["sink"]).WithLabels(sink);

    private static Prometheus.Gauge.Child Gauge(IMetricFactory f, string name, string help, string sink) =>
        f.CreateGauge(name, help, ["sink"]).WithLabels(sink);
}
