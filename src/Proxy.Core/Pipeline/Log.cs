using Microsoft.Extensions.Logging;

namespace Proxy.Pipeline;

/// <summary>
/// Request-path log lines, source-generated so a disabled level costs a branch. Never logs bodies or credentials.
/// The ones a failing provider or an overload writes for every request go through <see cref="Throttle"/>: one line
/// per kind (event and key, never the request id) per interval, the next carrying how many were left out.
/// </summary>
internal static partial class Log
{
    /// <summary>Process-wide, as the log it protects is: one line per kind every 10 s.</summary>
    public static LogThrottle Throttle { get; } = new(TimeProvider.System, TimeSpan.FromSeconds(10));

    public static void UpstreamFailed(ILogger logger, string requestId, string provider, string reason, string message)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(1, provider, reason, out var n))
            UpstreamFailedLine(logger, requestId, provider, reason, message, LogThrottle.Repeats(n));
    }

    public static void StreamBroken(ILogger logger, string requestId, string provider, string reason, string message)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(2, provider, reason, out var n))
            StreamBrokenLine(logger, requestId, provider, reason, message, LogThrottle.Repeats(n));
    }

    public static void TryingAgain(ILogger logger, string requestId, int attempt, string target, string reason, string next, string nextTarget, long delayMs)
    {
        if (logger.IsEnabled(LogLevel.Information) && Throttle.ShouldWrite(4, target, reason, out var n))
            TryingAgainLine(logger, requestId, attempt, target, reason, next, nextTarget, delayMs, LogThrottle.Repeats(n));
    }

    public static void NotRetried(ILogger logger, string requestId, int attempt, string target, string reason, string why)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(5, target, reason, out var n))
            NotRetriedLine(logger, requestId, attempt, target, reason, why, LogThrottle.Repeats(n));
    }

    public static void NoTarget(ILogger logger, string requestId, string route)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(7, route, "", out var n))
            NoTargetLine(logger, requestId, route, LogThrottle.Repeats(n));
    }

    public static void Overloaded(ILogger logger, string requestId, int limit)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(8, "", "", out var n))
            OverloadedLine(logger, requestId, limit, LogThrottle.Repeats(n));
    }

    public static void OutOfDescriptors(ILogger logger, string requestId, string provider)
    {
        if (logger.IsEnabled(LogLevel.Error) && Throttle.ShouldWrite(9, provider, "", out var n))
            OutOfDescriptorsLine(logger, requestId, provider, LogThrottle.Repeats(n));
    }

    /// <summary>A bug on every request must not flood the log either: throttled per exception type.</summary>
    public static void Unexpected(ILogger logger, string requestId, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Error) && Throttle.ShouldWrite(10, exception.GetType().Name, "", out var n))
            UnexpectedLine(logger, requestId, LogThrottle.Repeats(n), exception);
    }

    [LoggerMessage(1, LogLevel.Warning, "Request {RequestId}: upstream '{Provider}' failed ({Reason}): {Message}{Repeats}")]
    private static partial void UpstreamFailedLine(ILogger logger, string requestId, string provider, string reason, string message, string repeats);

    [LoggerMessage(2, LogLevel.Warning, "Request {RequestId}: stream from '{Provider}' broke after it began ({Reason}): {Message}{Repeats}")]
    private static partial void StreamBrokenLine(ILogger logger, string requestId, string provider, string reason, string message, string repeats);

    [LoggerMessage(3, LogLevel.Debug, "Request {RequestId}: client went away")]
    public static partial void ClientGone(ILogger logger, string requestId);

    [LoggerMessage(4, LogLevel.Information,
        "Request {RequestId}: attempt {Attempt} on '{Target}' failed ({Reason}); {Next} on '{NextTarget}' in {DelayMs} ms{Repeats}")]
    private static partial void TryingAgainLine(ILogger logger, string requestId, int attempt, string target, string reason, string next, string nextTarget, long delayMs, string repeats);

    [LoggerMessage(5, LogLevel.Warning, "Request {RequestId}: attempt {Attempt} on '{Target}' failed ({Reason}) and is not retried: {Why}{Repeats}")]
    private static partial void NotRetriedLine(ILogger logger, string requestId, int attempt, string target, string reason, string why, string repeats);

    [LoggerMessage(6, LogLevel.Warning, "Route '{Route}': circuit breaker of '{Target}' is now {State}")]
    public static partial void BreakerChanged(ILogger logger, string route, string target, string state);

    [LoggerMessage(7, LogLevel.Warning, "Request {RequestId}: every target of route '{Route}' has an open circuit breaker; answered 503{Repeats}")]
    private static partial void NoTargetLine(ILogger logger, string requestId, string route, string repeats);

    [LoggerMessage(8, LogLevel.Warning,
        "Request {RequestId}: refused with 503 gateway_overloaded: {Limit} requests in flight, the cap (server.max_concurrent_requests){Repeats}")]
    private static partial void OverloadedLine(ILogger logger, string requestId, int limit, string repeats);

    [LoggerMessage(9, LogLevel.Error,
        "Request {RequestId}: the gateway is out of file descriptors (EMFILE/ENFILE) and could not connect to '{Provider}'; answered 503 " +
        "gateway_resources. Lower server.max_concurrent_requests or raise the open-file limit{Repeats}")]
    private static partial void OutOfDescriptorsLine(ILogger logger, string requestId, string provider, string repeats);

    [LoggerMessage(10, LogLevel.Error, "Request {RequestId}: unexpected failure in the gateway; answered 500 (or cut the answer short if it had begun){Repeats}")]
    private static partial void UnexpectedLine(ILogger logger, string requestId, string repeats, Exception exception);

    public static void LimitStoreFailed(ILogger logger, string store, string reason, bool failedClosed)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(11, store, reason, out var n))
            LimitStoreFailedLine(logger, store, reason, failedClosed ? "refused with 503 (the limit fails closed)" : "decided by this replica alone (fail open)", LogThrottle.Repeats(n));
    }

    public static void ShadowLimit(ILogger logger, string requestId, string limit)
    {
        if (logger.IsEnabled(LogLevel.Information) && Throttle.ShouldWrite(12, limit, "shadow", out var n))
            ShadowLimitLine(logger, requestId, limit, LogThrottle.Repeats(n));
    }

    [LoggerMessage(11, LogLevel.Warning, "The {Store} limit store could not decide ({Reason}): requests {What}{Repeats}")]
    private static partial void LimitStoreFailedLine(ILogger logger, string store, string reason, string what, string repeats);

    [LoggerMessage(12, LogLevel.Information, "Request {RequestId} is over the shadow limit {Limit}: counted, not refused{Repeats}")]
    private static partial void ShadowLimitLine(ILogger logger, string requestId, string limit, string repeats);
    public static void BudgetStoreFailed(ILogger logger, string store, string reason, bool failedClosed)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(13, store, reason, out var n))
            BudgetStoreFailedLine(logger, store, reason, failedClosed ? "refused with 503 (the budget fails closed)" : "admitted unchecked (the budget fails open)", LogThrottle.Repeats(n));
    }

    public static void BudgetChargeFailed(ILogger logger, string store, long nanoUsd, string budgets, string reason)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Throttle.ShouldWrite(14, store, reason, out var n))
            BudgetChargeFailedLine(logger, store, nanoUsd / 1e9m, budgets, reason, LogThrottle.Repeats(n));
    }

    [LoggerMessage(13, LogLevel.Warning, "The {Store} budget store could not be read ({Reason}): requests {What}{Repeats}")]
    private static partial void BudgetStoreFailedLine(ILogger logger, string store, string reason, string what, string repeats);

    [LoggerMessage(14, LogLevel.Warning, "The {Store} budget store did not take a charge of {Usd} USD to {Budgets} ({Reason}): that spend is missing from the budgets{Repeats}")]
    private static partial void BudgetChargeFailedLine(ILogger logger, string store, decimal usd, string budgets, string reason, string repeats);

    /// <summary>Every crossing is written: one line per budget, threshold and period at most.</summary>
    [LoggerMessage(15, LogLevel.Warning, "Budget of {Scope} '{Holder}' crossed its soft threshold {Threshold}: spent {SpentUsd} of {LimitUsd} USD in its current period ({Period})")]
    public static partial void BudgetThresholdCrossed(ILogger logger, string scope, string holder, string threshold, decimal spentUsd, decimal limitUsd, string period);
}
