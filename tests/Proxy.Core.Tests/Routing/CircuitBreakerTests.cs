using Proxy.Routing;

namespace Proxy.Core.Tests.Routing;

public sealed class CircuitBreakerTests
{
    private readonly ManualTime _time = new();

    private CircuitBreaker Breaker(int consecutive = 3, double ratio = 0, int minRequests = 10, int probes = 1) => new(new BreakerSettings
    {
        ConsecutiveFailures = consecutive, FailureRatio = ratio, MinRequests = minRequests, Window = TimeSpan.FromSeconds(10),
        OpenFor = TimeSpan.FromSeconds(30), HalfOpenProbes = probes,
    }, _time);

    private static BreakerTransition Call(CircuitBreaker b, bool success)
    {
        Assert.True(b.TryAcquire(out var lease, out _));
        return b.Record(lease, success);
    }

    [Fact]
    public void ConsecutiveFailures_OpenAtTheThreshold_AndTheTargetIsRefused()
    {
        var b = Breaker(consecutive: 3);
        Assert.Equal(BreakerTransition.None, Call(b, false));
        Assert.Equal(BreakerTransition.None, Call(b, false));
        Assert.Equal(BreakerTransition.Opened, Call(b, false));

        Assert.Equal(BreakerState.Open, b.State);
        Assert.False(b.IsAvailable());
        Assert.False(b.TryAcquire(out _, out _));
        Assert.Equal(TimeSpan.FromSeconds(30), b.OpenRemaining());
    }

    [Fact]
    public void Success_EndsTheRunOfFailures()
    {
        var b = Breaker(consecutive: 3);
        Call(b, false);
        Call(b, false);
        Call(b, true);
        Call(b, false);
        Assert.Equal(BreakerTransition.None, Call(b, false));
        Assert.Equal(BreakerState.Closed, b.State);
    }

    [Fact]
    public void FailureRatio_OpensOnlyOnceTheWindowHasMinRequests()
    {
        var b = Breaker(consecutive: 0, ratio: 0.5, minRequests: 6);
        // Alternating: never two failures in a row, half of all calls.
        for (int i = 0; i < 5; i++) Assert.Equal(BreakerTransition.None, Call(b, i % 2 == 0));
        Assert.Equal(BreakerTransition.Opened, Call(b, false)); // 6 calls, 3 failed
    }

    [Fact]
    public void FailureRatio_FailuresOlderThanTheWindowAgeOut()
    {
        var b = Breaker(consecutive: 0, ratio: 0.5, minRequests: 4);
        Call(b, false);
        Call(b, false);
        Call(b, true);
        _time.Advance(TimeSpan.FromSeconds(11));
        // The window now holds only these: 1 failure in 4.
        Call(b, true);
        Call(b, true);
        Call(b, true);
        Assert.Equal(BreakerTransition.None, Call(b, false));
        Assert.Equal(BreakerState.Closed, b.State);
    }

    [Fact]
    public void Open_AfterOpenFor_OneProbe_SuccessCloses()
    {
        var b = Breaker(consecutive: 1);
        Call(b, false);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(b.TryAcquire(out _, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(b.IsAvailable());

        Assert.True(b.TryAcquire(out var probe, out var transition));
        Assert.Equal(BreakerTransition.HalfOpened, transition);
        Assert.True(probe.Probe);
        Assert.Equal(BreakerState.HalfOpen, b.State);
        // One probe at a time: the next request is refused until it answers.
        Assert.False(b.IsAvailable());
        Assert.False(b.TryAcquire(out _, out _));

        Assert.Equal(BreakerTransition.Closed, b.Record(probe, success: true));
        Assert.Equal(BreakerState.Closed, b.State);
        Assert.True(b.TryAcquire(out var lease, out _));
        Assert.False(lease.Probe);
    }

    [Fact]
    public void ProbeFails_OpensAgainForAFullPeriod()
    {
        var b = Breaker(consecutive: 1);
        Call(b, false);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(b.TryAcquire(out var probe, out _));
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(BreakerTransition.Opened, b.Record(probe, success: false));
        Assert.Equal(BreakerState.Open, b.State);
        Assert.Equal(TimeSpan.FromSeconds(30), b.OpenRemaining());
    }

    [Fact]
    public void TwoProbes_BothMustSucceed()
    {
        var b = Breaker(consecutive: 1, probes: 2);
        Call(b, false);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(b.TryAcquire(out var first, out _));
        Assert.True(b.TryAcquire(out var second, out _));
        Assert.False(b.TryAcquire(out _, out _));

        Assert.Equal(BreakerTransition.None, b.Record(first, success: true));
        Assert.Equal(BreakerState.HalfOpen, b.State);
        Assert.Equal(BreakerTransition.Closed, b.Record(second, success: true));
    }

    [Fact]
    public void Release_GivesTheProbeSlotBack_WithoutAVerdict()
    {
        var b = Breaker(consecutive: 1);
        Call(b, false);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(b.TryAcquire(out var probe, out _));
        b.Release(probe);

        Assert.Equal(BreakerState.HalfOpen, b.State);
        Assert.True(b.TryAcquire(out var next, out var transition));
        Assert.Equal(BreakerTransition.None, transition);
        Assert.True(next.Probe);
    }

    [Fact]
    public void LateResult_FromBeforeTheBreakerOpened_ChangesNothing()
    {
        var b = Breaker(consecutive: 1);
        Assert.True(b.TryAcquire(out var slow, out _));
        Call(b, false); // opens
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(b.TryAcquire(out var probe, out _));

        // The slow call from the closed period answers now: it neither closes nor re-opens the half-open breaker.
        Assert.Equal(BreakerTransition.None, b.Record(slow, success: true));
        Assert.Equal(BreakerTransition.None, b.Record(slow, success: false));
        Assert.Equal(BreakerState.HalfOpen, b.State);
        Assert.Equal(BreakerTransition.Closed, b.Record(probe, success: true));
    }

    [Fact]
    public void ManyThreads_HalfOpen_NeverMoreProbesThanAllowed()
    {
        var b = Breaker(consecutive: 1, probes: 3);
        Call(b, false);
        _time.Advance(TimeSpan.FromSeconds(30));
        int granted = 0, halfOpened = 0;
        Parallel.For(0, 64, _ =>
        {
            if (b.TryAcquire(out var lease, out var t))
            {
                Interlocked.Increment(ref granted);
                Assert.True(lease.Probe);
            }
            if (t == BreakerTransition.HalfOpened) Interlocked.Increment(ref halfOpened);
        });
        Assert.Equal(3, granted);
        Assert.Equal(1, halfOpened);
    }
}
