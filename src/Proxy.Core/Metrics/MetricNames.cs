namespace Proxy.Metrics;

/// <summary>
/// Every metric name in one place (README "Metrics" documents them). Prometheus conventions: base units in the name
/// (seconds, bytes), counters exposed with _total, one prefix.
/// </summary>
public static class MetricNames
{
    public const string Prefix = "llm_gateway_";

    public const string Requests = Prefix + "requests";
    public const string RequestDuration = Prefix + "request_duration_seconds";
    public const string Overhead = Prefix + "overhead_seconds";
    public const string UpstreamTtfb = Prefix + "upstream_time_to_first_byte_seconds";
    public const string TimeToFirstToken = Prefix + "time_to_first_token_seconds";
    public const string ChunkGap = Prefix + "stream_chunk_gap_seconds";
    public const string Tokens = Prefix + "tokens";
    public const string Cost = Prefix + "cost_usd";
    public const string InFlight = Prefix + "requests_in_flight";
    public const string Rejected = Prefix + "requests_rejected";
    public const string ClientApiRequests = Prefix + "client_api_requests";
    public const string UpstreamErrors = Prefix + "upstream_errors";
    public const string Retries = Prefix + "retries";
    public const string Fallbacks = Prefix + "fallbacks";
    public const string RetriesStopped = Prefix + "retries_stopped";
    public const string BreakerState = Prefix + "circuit_breaker_state";
    public const string BreakerTransitions = Prefix + "circuit_breaker_transitions";
    public const string MaxConcurrentRequests = Prefix + "max_concurrent_requests";
    public const string ResourceExhaustion = Prefix + "resource_exhaustion";
    public const string ConfigReloads = Prefix + "config_reloads";
    public const string RateLimited = Prefix + "rate_limited";
    public const string LimitStoreFailures = Prefix + "limit_store_failures";
    public const string BudgetSpent = Prefix + "budget_spent_usd";
    public const string BudgetLimit = Prefix + "budget_limit_usd";
    public const string BudgetThresholdsCrossed = Prefix + "budget_thresholds_crossed";
    public const string BudgetChargeFailures = Prefix + "budget_charge_failures";
    public const string BudgetStoreFailures = Prefix + "budget_store_failures";
    public const string CacheRequests = Prefix + "cache_requests";
    public const string CacheStoreFailures = Prefix + "cache_store_failures";
    public const string ConfigLastReload = Prefix + "config_last_reload_timestamp_seconds";
    public const string BuildInfo = Prefix + "build_info";

    public const string LogRecords = Prefix + "log_records";
    public const string LogQueued = Prefix + "log_records_queued";
    public const string LogBatchesUploaded = Prefix + "log_batches_uploaded";
    public const string LogBytesUploaded = Prefix + "log_uploaded_bytes";
    public const string LogUploadFailures = Prefix + "log_upload_failures";
    public const string LogSpoolBatches = Prefix + "log_spool_batches";
    public const string LogSpoolBytes = Prefix + "log_spool_bytes";
    public const string LogSpoolDropped = Prefix + "log_spool_dropped_batches";
    public const string LogOldestPending = Prefix + "log_oldest_pending_seconds";
    public const string LogUploadStalled = Prefix + "log_upload_stalled_seconds";
    public const string LogJournalErrors = Prefix + "log_journal_errors";
    public const string LogRecovered = Prefix + "log_recovered_records";
}
