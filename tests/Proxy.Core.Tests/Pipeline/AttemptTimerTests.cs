using System.Diagnostics;
using Proxy.Pipeline;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>
/// Attempt deadlines through the shared <see cref="TimeoutWheel"/>: a deadline cancels the token (not before it,
/// at most a tick or two after it on an idle machine, within a loose bound on a loaded one), re-arming moves it,
/// the client leaving cancels at once, and disposed timers leave the wheel.
/// </summary>
public sealed class AttemptTimerTests
{
    private static readonly TimeSpan Loose = TimeSpan.FromSeconds(5); // A loaded 2-core CI machine may stall a tick.

    [Fact]
    public async Task A_deadline_cancels_the_token_after_it_passes_and_not_before()
    {
        using var timer = new AttemptTimer(CancellationToken.None);
        var armed = Stopwatch.GetTimestamp();
        timer.ArmAt(Deadlines.From(armed, TimeSpan.FromMilliseconds(100)));
        var cancelled = new TaskCompletionSource<long>();
        timer.Token.UnsafeRegister(_ => cancelled.TrySetResult(Stopwatch.GetTimestamp()), null);

        var at = await cancelled.Task.WaitAsync(Loose);
        Assert.True(Stopwatch.GetElapsedTime(armed, at) >= TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Re_arming_before_the_deadline_moves_it()
    {
        using var timer = new AttemptTimer(CancellationToken.None);
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3; // Past the 2 s deadline, kept alive by re-arming...
        while (Stopwatch.GetTimestamp() < until)
        {
            timer.ArmAt(Deadlines.From(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(2)));
            await Task.Delay(20);
            Assert.False(timer.IsCancellationRequested);
        }

        // ...then let it lapse.
        var cancelled = new TaskCompletionSource();
        timer.Token.UnsafeRegister(_ => cancelled.TrySetResult(), null);
        await cancelled.Task.WaitAsync(Loose);
    }

    [Fact]
    public void A_disarmed_timer_is_never_cancelled_by_the_wheel_and_the_client_leaving_cancels_at_once()
    {
        using var client = new CancellationTokenSource();
        using var timer = new AttemptTimer(client.Token);
        Thread.Sleep(50); // Several ticks pass.
        Assert.False(timer.IsCancellationRequested);

        client.Cancel();
        Assert.True(timer.IsCancellationRequested); // Synchronously, not at a tick.
    }

    [Fact]
    public void A_deadline_already_past_cancels_at_once()
    {
        using var timer = new AttemptTimer(CancellationToken.None);
        using var outcome = new Proxy.Accounting.CallOutcome(Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow, 0);
        Deadlines.Arm(timer, outcome, TimeSpan.Zero, TimeoutKind.FirstByte);
        Assert.True(timer.IsCancellationRequested);
        Assert.Equal(TimeoutKind.FirstByte, outcome.ArmedTimeout);
    }

    [Fact]
    public void Absurd_timeouts_saturate_instead_of_overflowing_into_the_past()
    {
        var now = Stopwatch.GetTimestamp();
        Assert.Equal(long.MaxValue, Deadlines.From(now, TimeSpan.MaxValue));
        Assert.True(Deadlines.From(now, TimeSpan.FromDays(365 * 100)) > now);
    }

    [Fact]
    public async Task Many_timers_each_fire_on_their_own_deadline_and_leave_the_wheel_when_disposed()
    {
        var timers = Enumerable.Range(0, 2_000).Select(_ => new AttemptTimer(CancellationToken.None)).ToList();
        var now = Stopwatch.GetTimestamp();
        for (var i = 0; i < timers.Count; i++)
        {
            // Even ones expire soon; odd ones far in the future.
            timers[i].ArmAt(Deadlines.From(now, i % 2 == 0 ? TimeSpan.FromMilliseconds(30) : TimeSpan.FromHours(1)));
        }

        await Task.WhenAll(timers.Where((_, i) => i % 2 == 0).Select(t => WhenCancelled(t.Token))).WaitAsync(Loose);
        Assert.All(timers.Where((_, i) => i % 2 == 1), t => Assert.False(t.IsCancellationRequested));

        var before = TimeoutWheel.Live;
        timers.ForEach(t => t.Dispose());
        timers.ForEach(t => t.Dispose()); // Idempotent.
        Assert.True(TimeoutWheel.Live <= before - timers.Count + 64); // Other tests may hold a few meanwhile.
    }

    private static Task WhenCancelled(CancellationToken token)
    {
        var done = new TaskCompletionSource();
        token.UnsafeRegister(_ => done.TrySetResult(), null);
        return done.Task;
    }
}
