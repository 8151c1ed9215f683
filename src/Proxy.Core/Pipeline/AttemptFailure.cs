using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// An attempt that failed before anything reached the client: what the client would be told, and what the router needs
/// to decide whether to try again (reason, retryable, the upstream's Retry-After). Only the request's last failure is
/// written (<see cref="UpstreamRelay.WriteFailureAsync"/>). Made only on failure, so the success path never allocates one.
/// </summary>
public sealed class AttemptFailure : IDisposable
{
    /// <summary>HTTP status the client gets.</summary>
    public required int Status { get; init; }

    /// <summary>OpenAI error type.</summary>
    public required string Type { get; init; }

    public string? Code { get; init; }

    public string? Param { get; init; }

    public required string Message { get; init; }

    /// <summary>One of <see cref="FailureReasons"/>.</summary>
    public required string Reason { get; init; }

    /// <summary>The request log's and metrics' error class when it is not <see cref="Type"/> (the gateway's own failures).</summary>
    public string? ErrorClass { get; init; }

    /// <summary>Worth another attempt: connect errors, timeouts, 429, 5xx and overload answers; never a 4xx about the request.</summary>
    public bool Retryable { get; init; }

    /// <summary>The upstream's HTTP status; 0 when it never answered.</summary>
    public int UpstreamStatus { get; init; }

    /// <summary>The wait the upstream asked for, read from Retry-After or retry-after-ms.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The upstream's Retry-After as sent, passed on to the client with the final failure.</summary>
    public string? RetryAfterHeader { get; init; }

    /// <summary>An OpenAI-shaped upstream error body, passed to the client byte for byte; owned (pooled) until disposed.</summary>
    public PooledBuffer? Body { get; init; }

    public void Dispose() => Body?.Dispose();
}
