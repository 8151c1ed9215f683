using Proxy.Config;
using Proxy.Limits;
using Proxy.Redis;
using StackExchange.Redis;

namespace Proxy.Host.Limits;

/// <summary>
/// The Redis-backed stores over one connection per app (<see cref="SharedRedis"/>; StackExchange.Redis multiplexes
/// every caller over it). The gateway starts while Redis is down: the connection keeps trying in the background, and
/// until it is up the limits follow their fail mode and the response cache misses.
/// </summary>
public static partial class RedisStores
{
    /// <summary>Connects (in the background while Redis is down), logging the connection's failures and recoveries.</summary>
    public static ConnectionMultiplexer Connect(RedisSettings settings, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Proxy.Redis");
        var options = new RedisOptions { Url = settings.Url, Password = settings.Password, ConnectTimeout = settings.ConnectTimeout, KeyPrefix = settings.KeyPrefix };
        var connection = ConnectionMultiplexer.Connect(RedisConnection.Configure(options));
        connection.ConnectionFailed += (_, e) => ConnectionFailed(logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString());
        connection.ConnectionRestored += (_, e) => ConnectionRestored(logger, e.EndPoint?.ToString() ?? "?");
        if (!connection.IsConnected) NotReachable(logger, RedisConnection.Redact(settings.Url));
        return connection;
    }

    public static ILimitStore Limits(SharedRedis redis, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Proxy.Redis");
        return new RedisLimitStore(redis.Connection, redis.Settings.KeyPrefix, e => SettlementLost(logger, e.Message));
    }

    public static Proxy.Cache.IResponseCache Cache(SharedRedis redis) => new RedisResponseCache(redis.Connection, redis.Settings.KeyPrefix);

    [LoggerMessage(1, LogLevel.Warning, "Redis connection to {Endpoint} failed: {Failure}; limits follow their fail mode and the response cache misses until it is back")]
    private static partial void ConnectionFailed(ILogger logger, string endpoint, string failure);

    [LoggerMessage(2, LogLevel.Information, "Redis connection to {Endpoint} restored")]
    private static partial void ConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(3, LogLevel.Warning, "Redis at {Url} is not reachable yet; limits follow their fail mode and the response cache misses until it is")]
    private static partial void NotReachable(ILogger logger, string url);

    [LoggerMessage(4, LogLevel.Warning, "Redis: a limit settlement was lost ({Reason}); its leases expire on their own")]
    private static partial void SettlementLost(ILogger logger, string reason);
}
