namespace Proxy.Routing;

/// <summary>Why a retryable failure went back to the client instead of to another attempt: the reason label of llm_gateway_retries_stopped_total.</summary>
public static class StopReasons
{
    /// <summary>The request used every attempt its route allows (<c>retries.attempts</c>).</summary>
    public const string Attempts = "attempts";

    /// <summary>The route's retry budget was spent: too many retries across its recent requests.</summary>
    public const string Budget = "budget";

    /// <summary>The route's total timeout would expire before the next attempt could start.</summary>
    public const string Deadline = "deadline";

    /// <summary>The upstream asked for a longer wait (Retry-After) than <c>retries.max_retry_after</c>, and no other target was left.</summary>
    public const string RetryAfter = "retry_after";

    /// <summary>Every other target's breaker is open.</summary>
    public const string NoTarget = "no_target";

    public static readonly string[] All = [Attempts, Budget, Deadline, RetryAfter, NoTarget];
}
