using Proxy.Core.Tests.Routing;
using Proxy.Pipeline;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>Repeated identical warnings: one line per kind per interval, and the next line says how many were left out.</summary>
public sealed class LogThrottleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void FirstIsWritten_RepeatsAreCounted_AndTheNextLineCarriesTheCount()
    {
        var time = new ManualTime();
        var throttle = new LogThrottle(time, Interval);

        Assert.True(throttle.ShouldWrite(1, "up", "unreachable", out var first));
        Assert.Equal(0, first);
        for (int i = 0; i < 999; i++) Assert.False(throttle.ShouldWrite(1, "up", "unreachable", out _));

        time.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.False(throttle.ShouldWrite(1, "up", "unreachable", out _));
        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(throttle.ShouldWrite(1, "up", "unreachable", out var suppressed));
        Assert.Equal(1000, suppressed);
        Assert.Equal(" [1000 more like this since the previous line were not logged]", LogThrottle.Repeats(suppressed));
        Assert.Equal("", LogThrottle.Repeats(0));

        // A quiet spell: the next one is written at once and reports nothing left out.
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(throttle.ShouldWrite(1, "up", "unreachable", out var none));
        Assert.Equal(0, none);
    }

    [Fact]
    public void KindsAreIndependent_ByEventAndKey()
    {
        var throttle = new LogThrottle(new ManualTime(), Interval);
        Assert.True(throttle.ShouldWrite(1, "up", "unreachable", out _));
        Assert.True(throttle.ShouldWrite(1, "up", "server_error", out _));
        Assert.True(throttle.ShouldWrite(1, "other", "unreachable", out _));
        Assert.True(throttle.ShouldWrite(2, "up", "unreachable", out _));
        Assert.False(throttle.ShouldWrite(1, "up", "unreachable", out _));
    }

    [Fact]
    public async Task ManyThreadsInOneInterval_WriteOneLine_AndLoseNoCount()
    {
        var time = new ManualTime();
        var throttle = new LogThrottle(time, Interval);
        long written = 0;
        var threads = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (int i = 0; i < 25_000; i++)
            {
                if (throttle.ShouldWrite(9, "up", "", out _)) Interlocked.Increment(ref written);
            }
        }));
        await Task.WhenAll(threads).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, written);
        time.Advance(Interval);
        Assert.True(throttle.ShouldWrite(9, "up", "", out var suppressed));
        Assert.Equal(99_999, suppressed);
    }
}
