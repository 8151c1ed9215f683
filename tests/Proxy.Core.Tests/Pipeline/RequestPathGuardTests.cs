using Proxy.Pipeline;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>The request path's checks before and around the peek: the content type, and a route lookup that cannot throw.</summary>
public class RequestPathGuardTests
{
    [Fact]
    public void FindRoute_NeverThrows_OnWhatThePeekWouldRefuse()
    {
        var config = ConfigLoaderTests.Parse("""
            providers:
              mock: { type: mock }
            routes:
              m: { provider: mock }
            keys: []
            """);

        Assert.NotNull(ProxyHandler.FindRoute(config, "\"m\""u8));
        Assert.Null(ProxyHandler.FindRoute(config, [(byte)'"', 0xFF, (byte)'"'])); // invalid UTF-8
        Assert.Null(ProxyHandler.FindRoute(config, "\"\\ud800\""u8));                 // lone surrogate escape
        Assert.Null(ProxyHandler.FindRoute(config, "42"u8));                           // not a string
        Assert.Null(ProxyHandler.FindRoute(config, "\"m"u8));                          // cut off
        Assert.Null(ProxyHandler.FindRoute(config, ""u8));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("application/json", true)]
    [InlineData("Application/JSON", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData(" application/json ;charset=UTF-8", true)]
    [InlineData("text/plain", false)]
    [InlineData("application/x-www-form-urlencoded", false)]
    [InlineData("multipart/form-data; boundary=x", false)]
    [InlineData("application/jsonl", false)]
    [InlineData("application/json-patch+json", false)]
    [InlineData("json", false)]
    public void ContentType_IsJsonOrAbsent(string? contentType, bool accepted)
    {
        Assert.Equal(accepted, RequestBody.IsJsonOrAbsent(contentType));
    }
}
