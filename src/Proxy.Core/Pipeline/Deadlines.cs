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
/// Arms an attempt's one cancellation timer for the phase it is in (first byte, then idle between reads), shortened to
/// the attempt's and the request's deadlines when those come sooner, and remembers which one it armed.
/// </summary>
internal static class Deadlines
{
    public static void Arm(CancellationTokenSource cts, CallOutcome outcome, TimeSpan phase, TimeoutKind kind)
    {
        if (outcome.Deadline != 0 && Left(Stopwatch.GetTimestamp(), outcome.Deadline) is var left && left <= phase)
        {
            phase = left;
            kind = outcome.DeadlineKind;
        }
        outcome.ArmedTimeout = kind;
        cts.CancelAfter(phase);
    }

    /// <summary>A Stopwatch timestamp <paramref name="after"/> from now.</summary>
    public static long From(long now, TimeSpan after) => now + (long)(after.TotalSeconds * Stopwatch.Frequency);

    public static TimeSpan Left(long now, long deadline) => deadline <= now ? TimeSpan.Zero : Stopwatch.GetElapsedTime(now, deadline);
}
