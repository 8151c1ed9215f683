using System.Diagnostics;
using Proxy.Accounting;

namespace Proxy.Pipeline;

/// <summary>Which timeout an attempt's cancellation timer stands for, so its expiry can be named.</summary>
public enum TimeoutKind
{
    None,
    FirstByte,
    Idle,

    /// <summary>The target's cap on one attempt.</summary>
    Attempt,

    /// <summary>The route's deadline for the whole request.</summary>
    Total,
}

/// <summary>
/// Arms an attempt's deadline for the phase it is in (first byte, then idle between reads), shortened to
/// the attempt's and the request's deadlines when those come sooner, and remembers which one it armed.
/// </summary>
internal static class Deadlines
{
    public static void Arm(AttemptTimer timer, CallOutcome outcome, TimeSpan phase, TimeoutKind kind)
    {
        var now = Stopwatch.GetTimestamp();
        var due = From(now, phase);
        if (outcome.Deadline != 0 && outcome.Deadline <= due)
        {
            due = outcome.Deadline;
            kind = outcome.DeadlineKind;
        }
        outcome.ArmedTimeout = kind;
        timer.ArmAt(due);
        if (due <= now)
        {
            timer.Expire(); // Already past (the request's deadline): no need to wait for the next tick.
        }
    }

    /// <summary>A Stopwatch timestamp <paramref name="after"/> from now; saturates instead of overflowing for absurd timeouts.</summary>
    public static long From(long now, TimeSpan after)
    {
        var ticks = after.TotalSeconds * Stopwatch.Frequency;
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }
}
