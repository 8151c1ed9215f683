using Microsoft.Extensions.Logging;
using Proxy.Pipeline;

namespace Proxy.Cache;

/// <summary>The cache stage's log lines, throttled as the request path's are (one per kind and store every 10 s).</summary>
internal static partial class CacheLog
{
    public static void ReadFailed(ILogger logger, string store, string reason)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Log.Throttle.ShouldWrite(40, store, "read", out var n))
            ReadFailedLine(logger, store, reason, LogThrottle.Repeats(n));
    }

    public static void WriteFailed(ILogger logger, string store, string reason)
    {
        if (logger.IsEnabled(LogLevel.Warning) && Log.Throttle.ShouldWrite(41, store, "write", out var n))
            WriteFailedLine(logger, store, reason, LogThrottle.Repeats(n));
    }

    [LoggerMessage(40, LogLevel.Warning, "The {Store} response cache could not be read ({Reason}): the request was a miss{Repeats}")]
    private static partial void ReadFailedLine(ILogger logger, string store, string reason, string repeats);

    [LoggerMessage(41, LogLevel.Warning, "The {Store} response cache could not store an answer ({Reason}): the next identical request is a miss{Repeats}")]
    private static partial void WriteFailedLine(ILogger logger, string store, string reason, string repeats);
}
