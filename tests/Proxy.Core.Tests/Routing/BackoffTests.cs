using System.Net.Http.Headers;
using Proxy.Routing;

namespace Proxy.Core.Tests.Routing;

public sealed class BackoffTests
{
    private static readonly RetrySettings Settings = new() { Backoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(350) };

    [Theory]
    [InlineData(1, 50, 100)]
    [InlineData(2, 100, 200)]
    [InlineData(3, 175, 350)] // 400 capped at 350
    [InlineData(9, 175, 350)]
    public void Delay_DoublesPerRetry_WithEqualJitter_CappedAtMax(int retry, double lowMs, double highMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(lowMs), Backoff.Delay(Settings, retry, jitter: 0));
        Assert.Equal(TimeSpan.FromMilliseconds(highMs), Backoff.Delay(Settings, retry, jitter: 1));
        var mid = Backoff.Delay(Settings, retry, jitter: 0.5);
        Assert.InRange(mid, TimeSpan.FromMilliseconds(lowMs), TimeSpan.FromMilliseconds(highMs));
    }

    private static HttpResponseHeaders Headers(params (string, string)[] values)
    {
        var response = new HttpResponseMessage();
        foreach (var (name, value) in values) response.Headers.TryAddWithoutValidation(name, value);
        return response.Headers;
    }

    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RetryAfter_Seconds() => Assert.Equal(TimeSpan.FromSeconds(7), Backoff.RetryAfter(Headers(("Retry-After", "7")), Now));

    [Fact]
    public void RetryAfter_HttpDate() =>
        Assert.Equal(TimeSpan.FromSeconds(30), Backoff.RetryAfter(Headers(("Retry-After", Now.AddSeconds(30).ToString("R"))), Now));

    [Fact]
    public void RetryAfter_DateInThePast_IsZero() =>
        Assert.Equal(TimeSpan.Zero, Backoff.RetryAfter(Headers(("Retry-After", Now.AddSeconds(-30).ToString("R"))), Now));

    [Fact]
    public void RetryAfterMs_WinsOverRetryAfter() =>
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Backoff.RetryAfter(Headers(("Retry-After", "2"), ("retry-after-ms", "1500")), Now));

    [Theory]
    [InlineData("soon")]
    [InlineData("")]
    public void RetryAfter_Unreadable_IsNone(string value) => Assert.Null(Backoff.RetryAfter(Headers(("Retry-After", value)), Now));

    [Fact]
    public void RetryAfter_Absent_IsNone() => Assert.Null(Backoff.RetryAfter(Headers(), Now));
}

public sealed class RetryableStatusTests
{
    [Theory]
    [InlineData(408)]
    [InlineData(409)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(529)]
    public void Retried(int status) => Assert.True(FailureReasons.IsRetryableStatus(status));

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(402)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(413)]
    [InlineData(422)]
    [InlineData(501)]
    [InlineData(505)]
    [InlineData(301)]
    public void NeverRetried(int status) => Assert.False(FailureReasons.IsRetryableStatus(status));
}
