using Microsoft.Extensions.Logging;

namespace Proxy.Pipeline;

/// <summary>Request-path log lines, source-generated so a disabled level costs a branch. Never logs bodies or credentials.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Request {RequestId}: upstream '{Provider}' failed ({Reason}): {Message}")]
    public static partial void UpstreamFailed(ILogger logger, string requestId, string provider, string reason, string message);

    [LoggerMessage(2, LogLevel.Warning, "Request {RequestId}: stream from '{Provider}' broke after it began ({Reason}): {Message}")]
    public static partial void StreamBroken(ILogger logger, string requestId, string provider, string reason, string message);

    [LoggerMessage(3, LogLevel.Debug, "Request {RequestId}: client went away")]
    public static partial void ClientGone(ILogger logger, string requestId);

    [LoggerMessage(4, LogLevel.Information,
        "Request {RequestId}: attempt {Attempt} on '{Target}' failed ({Reason}); {Next} on '{NextTarget}' in {DelayMs} ms")]
    public static partial void TryingAgain(ILogger logger, string requestId, int attempt, string target, string reason, string next, string nextTarget, long delayMs);

    [LoggerMessage(5, LogLevel.Warning, "Request {RequestId}: attempt {Attempt} on '{Target}' failed ({Reason}) and is not retried: {Why}")]
    public static partial void NotRetried(ILogger logger, string requestId, int attempt, string target, string reason, string why);

    [LoggerMessage(6, LogLevel.Warning, "Route '{Route}': circuit breaker of '{Target}' is now {State}")]
    public static partial void BreakerChanged(ILogger logger, string route, string target, string state);

    [LoggerMessage(7, LogLevel.Warning, "Request {RequestId}: every target of route '{Route}' has an open circuit breaker; answered 503")]
    public static partial void NoTarget(ILogger logger, string requestId, string route);

    [LoggerMessage(8, LogLevel.Error, "Request {RequestId}: unexpected failure in the gateway; answered 500 (or cut the answer short if it had begun)")]
    public static partial void Unexpected(ILogger logger, string requestId, Exception exception);
}
