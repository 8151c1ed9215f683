using Microsoft.Extensions.Logging;

namespace Proxy.Pipeline;

/// <summary>Request-path log lines, source-generated so a disabled level costs a branch. Never logs bodies or credentials.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Request {RequestId}: upstream '{Provider}' failed: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string requestId, string provider, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Request {RequestId}: stream from '{Provider}' broke after it began: {Reason}")]
    public static partial void StreamBroken(ILogger logger, string requestId, string provider, string reason);

    [LoggerMessage(3, LogLevel.Debug, "Request {RequestId}: client went away")]
    public static partial void ClientGone(ILogger logger, string requestId);
}
