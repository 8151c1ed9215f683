using Proxy.Budgets;
using Proxy.Config;
using Proxy.Limits;
using Proxy.Redis;
using StackExchange.Redis;

namespace Proxy.Host.Limits;

/// <summary>
/// The Redis-backed stores of one app over one connection (StackExchange.Redis multiplexes every caller over it): the
/// limit, budget and response-cache stores share it. Registered once per app; the connection is made when the first store is
/// asked for (never when limits.store is memory) and closed with the app. The gateway starts while Redis is down: the
/// connection keeps trying in the background, and until it is up limits and budgets follow their fail mode and the cache misses.
/// </summary>
public sealed partial class RedisStores : IDisposable
{
    private readonly RedisSettings? _settings;
    private readonly ILogger _logger;
    private readonly Lazy<ConnectionMultiplexer> _connection;

    public RedisStores(RedisSettings? settings, ILoggerFactory loggers)
    {
        _settings = settings;
        _logger = loggers.CreateLogger("Proxy.Redis");
        _connection = new(Connect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private RedisSettings Settings => _settings ?? throw new InvalidOperationException("a Redis store needs the config's 'redis:' section");

    public ILimitStore Limits() => new RedisLimitStore(_connection.Value, Settings.KeyPrefix, e => SettlementLost(_logger, e.Message));

    public IBudgetStore Budgets() => new RedisBudgetStore(_connection.Value, Settings.KeyPrefix);

    public Proxy.Cache.IResponseCache Cache() => new RedisResponseCache(_connection.Value, Settings.KeyPrefix);

    private ConnectionMultiplexer Connect()
    {
        var settings = Settings;
        var options = new RedisOptions { Url = settings.Url, Password = settings.Password, ConnectTimeout = settings.ConnectTimeout, KeyPrefix = settings.KeyPrefix };
        var connection = ConnectionMultiplexer.Connect(RedisConnection.Configure(options));
        connection.ConnectionFailed += (_, e) => ConnectionFailed(_logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString());
        connection.ConnectionRestored += (_, e) => ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
        if (!connection.IsConnected) NotReachable(_logger, RedisConnection.Redact(settings.Url));
        return connection;
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated) _connection.Value.Dispose();
    }

    [LoggerMessage(1, LogLevel.Warning, "Redis connection to {Endpoint} failed: {Failure}; limits and budgets follow their fail mode and the response cache misses until it is back")]
    private static partial void ConnectionFailed(ILogger logger, string endpoint, string failure);

    [LoggerMessage(2, LogLevel.Information, "Redis connection to {Endpoint} restored")]
    private static partial void ConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(3, LogLevel.Warning, "Redis at {Url} is not reachable yet; limits and budgets follow their fail mode and the response cache misses until it is")]
    private static partial void NotReachable(ILogger logger, string url);

    [LoggerMessage(4, LogLevel.Warning, "Redis: a limit settlement was lost ({Reason}); its leases expire on their own")]
    private static partial void SettlementLost(ILogger logger, string reason);
}
