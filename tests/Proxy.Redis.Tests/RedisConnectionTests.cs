using System.Net;
using Proxy.Limits;
using StackExchange.Redis;
using static Proxy.Redis.Tests.RedisTestSupport;

namespace Proxy.Redis.Tests;

public sealed class RedisConnectionTests
{
    private static EndPoint Single(ConfigurationOptions c) => Assert.Single(c.EndPoints);

    [Fact]
    public void A_redis_url_gives_host_port_database_and_credentials()
    {
        var c = RedisConnection.Configure(new RedisOptions { Url = "redis://:p%40ss@cache.internal:6380/2" });
        Assert.Equal(new DnsEndPoint("cache.internal", 6380), Single(c));
        Assert.Equal(2, c.DefaultDatabase);
        Assert.Equal("p@ss", c.Password);
        Assert.Null(c.User);
        Assert.False(c.Ssl);
        Assert.False(c.AbortOnConnectFail);
        Assert.Equal(5000, c.ConnectTimeout);

        var user = RedisConnection.Configure(new RedisOptions { Url = "redis://gw:pw@10.0.0.5", ConnectTimeout = TimeSpan.FromSeconds(2) });
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 6379), Single(user));
        Assert.Equal("gw", user.User);
        Assert.Equal("pw", user.Password);
        Assert.Null(user.DefaultDatabase);
        Assert.Equal(2000, user.ConnectTimeout);
    }

    [Fact]
    public void Rediss_is_tls_verified_against_the_host_name()
    {
        var c = RedisConnection.Configure(new RedisOptions { Url = "rediss://redis.example.com:6380" });
        Assert.True(c.Ssl);
        Assert.Equal("redis.example.com", c.SslHost);
        Assert.True(c.CheckCertificateRevocation);
    }

    [Fact]
    public void A_configuration_string_is_taken_as_is_and_the_options_password_wins()
    {
        var c = RedisConnection.Configure(new RedisOptions { Url = "h1:7000,h2:7001,ssl=true,password=old", Password = "new" });
        Assert.Equal(2, c.EndPoints.Count);
        Assert.True(c.Ssl);
        Assert.Equal("new", c.Password);
        Assert.False(c.AbortOnConnectFail);

        var url = RedisConnection.Configure(new RedisOptions { Url = "redis://:old@h", Password = "new" });
        Assert.Equal("new", url.Password);
    }

    [Fact]
    public void Passwords_never_show_in_text_or_errors()
    {
        var options = new RedisOptions { Url = "redis://gw:s3cret@h:6379/0", Password = "hunter2" };
        Assert.DoesNotContain("s3cret", options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", options.ToString(), StringComparison.Ordinal);
        Assert.Equal("redis://gw:***@h:6379/0", RedisConnection.Redact(options.Url));
        Assert.DoesNotContain("s3cret", RedisConnection.Redact("h:6379,password=s3cret"), StringComparison.Ordinal);

        var bad = Assert.Throws<ArgumentException>(() => RedisConnection.Configure(new RedisOptions { Url = "redis://:s3cret@h/db" }));
        Assert.DoesNotContain("s3cret", bad.Message, StringComparison.Ordinal);
        var query = Assert.Throws<ArgumentException>(() => RedisConnection.Configure(new RedisOptions { Url = "redis://:s3cret@h?x=1" }));
        Assert.DoesNotContain("s3cret", query.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connects_with_a_password_to_a_real_server()
    {
        using var server = RedisServer.Start(0, "--requirepass", "pa:ss@word");
        await using var redis = await RedisConnection.ConnectAsync(new RedisOptions
        {
            Url = $"redis://:{Uri.EscapeDataString("pa:ss@word")}@127.0.0.1:{server.Port}",
        });
        var store = new RedisLimitStore(redis);
        Assert.True((await store.Admit(Rule(LimitKind.Requests, 1))).States[0].Fits);

        await using var wrong = await RedisConnection.ConnectAsync(new RedisOptions
        {
            Url = $"redis://127.0.0.1:{server.Port}",
            Password = "nope",
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
        });
        Assert.False(wrong.IsConnected);
    }

    [Fact]
    public async Task Starts_while_redis_is_down_and_connects_when_it_comes_up()
    {
        int port = RedisServer.FreePort();
        await using var redis = await RedisConnection.ConnectAsync(new RedisOptions
        {
            Url = $"redis://127.0.0.1:{port}",
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
        });
        Assert.False(redis.IsConnected);

        using var server = RedisServer.Start(port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!redis.IsConnected && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(redis.IsConnected, "the connection did not come up within 30 s of the server starting");
        Assert.True((await new RedisLimitStore(redis).Admit(Rule(LimitKind.Requests, 1))).States[0].Fits);
    }
}
