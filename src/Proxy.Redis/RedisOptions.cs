namespace Proxy.Redis;

/// <summary>
/// Where the shared store's Redis is and how to reach it (<see cref="RedisConnection"/> turns it into a connection).
/// <see cref="ToString"/> never prints the password.
/// </summary>
public sealed record RedisOptions
{
    /// <summary>
    /// <c>redis://[[user]:password@]host[:port][/db]</c>, <c>rediss://…</c> for TLS (certificate verified against the
    /// host name), or a StackExchange.Redis configuration string (<c>host:6379,ssl=true,password=…</c>).
    /// </summary>
    public string Url { get; init; } = "redis://127.0.0.1:6379";

    /// <summary>The password (from a secret); when set it wins over one in <see cref="Url"/>.</summary>
    public string? Password { get; init; }

    /// <summary>How long one connect attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// False (the default): connecting returns even while Redis is down and the connection comes up by itself when
    /// Redis does, so the gateway starts without it (the limits stage fails open or closed meanwhile).
    /// </summary>
    public bool AbortOnConnectFail { get; init; }

    /// <summary>The hash tag every key starts with: <c>{llmgw}:key:team-a:rpm</c>.</summary>
    public string KeyPrefix { get; init; } = RedisLimitStore.DefaultPrefix;

    public override string ToString() =>
        $"RedisOptions {{ Url = {RedisConnection.Redact(Url)}, Password = {(Password is null ? "(none)" : "***")}, " +
        $"ConnectTimeout = {ConnectTimeout}, AbortOnConnectFail = {AbortOnConnectFail}, KeyPrefix = {KeyPrefix} }}";
}
