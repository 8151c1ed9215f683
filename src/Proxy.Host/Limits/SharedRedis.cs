using Proxy.Config;
using StackExchange.Redis;

namespace Proxy.Host.Limits;

/// <summary>
/// The app's one connection to the config's <c>redis:</c>, made on first use by whichever store needs it (limits, the
/// response cache) and shared by all of them; disposed with the app. One per app, not per process: tests host several.
/// </summary>
public sealed class SharedRedis : IDisposable
{
    private readonly RedisSettings? _settings;
    private readonly Lazy<ConnectionMultiplexer> _connection;

    public SharedRedis(RedisSettings? settings, ILoggerFactory loggers)
    {
        _settings = settings;
        _connection = new Lazy<ConnectionMultiplexer>(() => RedisStores.Connect(Settings, loggers));
    }

    /// <summary>The <c>redis:</c> section read at start (the config refuses a Redis store without one).</summary>
    public RedisSettings Settings => _settings ?? throw new InvalidOperationException("a Redis store needs the config's 'redis:' section");

    public ConnectionMultiplexer Connection => _connection.Value;

    public void Dispose()
    {
        if (_connection.IsValueCreated) _connection.Value.Dispose();
    }
}
