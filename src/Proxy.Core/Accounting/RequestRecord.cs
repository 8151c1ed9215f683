namespace Proxy.Accounting;

/// <summary>
/// One proxied request, as the request log keeps it (schema version <see cref="SchemaVersion"/>, documented in
/// README "Request log"). Built once after the last byte and handed to <see cref="IRequestLog"/>; never holds
/// the client's key or any credential, only the key's id.
/// </summary>
public sealed class RequestRecord
{
    public const int SchemaVersion = 1;

    public required string RequestId { get; init; }

    /// <summary>When the gateway received the request (UTC).</summary>
    public required DateTimeOffset StartedAt { get; init; }

    public required string Operation { get; init; }

    /// <summary>The virtual key's id from the config; null when the request was refused before auth succeeded.</summary>
    public string? KeyId { get; init; }

    /// <summary>The model name the client sent, when it named a configured route.</summary>
    public string? Route { get; init; }

    public string? Provider { get; init; }

    public string? UpstreamModel { get; init; }

    /// <summary>The serving target's region tag from the config; null when untagged.</summary>
    public string? Region { get; init; }

    /// <summary>HTTP status the client got.</summary>
    public int Status { get; init; }

    /// <summary>Null on success; otherwise the OpenAI error type or a stream failure class (upstream_error, timeout_error...).</summary>
    public string? ErrorClass { get; init; }

    /// <summary>Why the last upstream attempt failed (<see cref="Routing.FailureReasons"/>: which timeout, unreachable, server_error...); null when it did not.</summary>
    public string? UpstreamError { get; init; }

    public bool Stream { get; init; }

    public long PromptTokens { get; init; }

    public long CompletionTokens { get; init; }

    public long CachedTokens { get; init; }

    /// <summary>Prompt tokens written to the provider's prompt cache (included in <see cref="PromptTokens"/>).</summary>
    public long CacheWriteTokens { get; init; }

    /// <summary>The API the client spoke: chat_completions, embeddings, messages, responses.</summary>
    public string ClientApi { get; init; } = "chat_completions";

    /// <summary>Whether the provider reported usage (false: the token counts are unknown, not zero).</summary>
    public bool UsageReported { get; init; }

    /// <summary>Cost of the reported tokens in billionths of a USD, from the price table; 0 when unknown.</summary>
    public long CostNanoUsd { get; init; }

    /// <summary>Upstream attempts made, retries and fallbacks included; 0 when no provider was called.</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>The attempts before the last one that failed, in order; empty when the first attempt was the last.</summary>
    public IReadOnlyList<AttemptRecord> FailedAttempts { get; init; } = [];

    /// <summary>Total time in the gateway, from the request's arrival to its last byte, in microseconds.</summary>
    public long TotalUs { get; init; }

    /// <summary>From sending upstream to the upstream's response headers; 0 when no upstream call was made.</summary>
    public long UpstreamTtfbUs { get; init; }

    /// <summary>Streams: from arrival to the first event sent to the client; 0 otherwise.</summary>
    public long TtftUs { get; init; }

    /// <summary>Time the gateway itself added: total minus the time spent waiting on the upstream.</summary>
    public long GatewayOverheadUs { get; init; }

    /// <summary>Time in the limits stage; 0 when no limit applied.</summary>
    public long LimitsUs { get; init; }

    /// <summary>The limit that refused the request (<c>key:team-a:rpm</c>, <c>store</c>); null when none did.</summary>
    public string? LimitedBy { get; init; }

    /// <summary>The response cache's verdict on a route that caches: <c>hit</c> (answered from the cache, no provider called, free) or <c>miss</c>; null otherwise.</summary>
    public string? Cache { get; init; }

    /// <summary>Request body per the log's body policy (empty under "metadata"); owned by the record.</summary>
    public ReadOnlyMemory<byte> RequestBody { get; init; }

    /// <summary>Response body per the body policy: the JSON answer, or the SSE events as sent.</summary>
    public ReadOnlyMemory<byte> ResponseBody { get; init; }

    /// <summary>True when a body was cut at the policy's byte cap.</summary>
    public bool BodiesTruncated { get; init; }
}

/// <summary>Where request records go. Implementations must never block or throw on the request path.</summary>
public interface IRequestLog
{
    /// <summary>Hands a record over without waiting; returns false when it had to be dropped (counted by the log).</summary>
    bool TryWrite(RequestRecord record);
}

/// <summary>One attempt that failed and was followed by another (retried on the same target, or fallen back from).</summary>
public sealed record AttemptRecord
{
    public required string Provider { get; init; }
    public required string UpstreamModel { get; init; }
    public string? Region { get; init; }

    /// <summary>Why it failed (<see cref="Routing.FailureReasons"/>).</summary>
    public required string Error { get; init; }

    /// <summary>The provider's HTTP status; 0 when it never answered.</summary>
    public int UpstreamStatus { get; init; }

    /// <summary>From sending to the failure, in microseconds.</summary>
    public long DurationUs { get; init; }

    /// <summary>"retry" (the next attempt went to the same target) or "fallback" (to another one).</summary>
    public required string Next { get; init; }

    /// <summary>The wait before the next attempt (backoff or Retry-After), in microseconds.</summary>
    public long DelayUs { get; init; }
}
