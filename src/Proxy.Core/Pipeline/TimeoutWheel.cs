using System.Diagnostics;

namespace Proxy.Pipeline;

/// <summary>
/// The one timer behind every attempt's deadline. An attempt re-arms its deadline on each upstream read (first byte,
/// then idle between chunks); with a CancellationTokenSource.CancelAfter per attempt each re-arm was a timer-queue
/// operation under a lock, and the runtime's timer thread woke to re-sort them. Here a re-arm is one field write
/// (<see cref="AttemptTimer.ArmAt"/>), and a single periodic tick, running only while attempts are in flight,
/// cancels those whose deadline has passed. Deadlines fire up to one <see cref="Period"/> late, which is nothing
/// against timeouts measured in hundreds of milliseconds or more.
/// </summary>
internal static class TimeoutWheel
{
    /// <summary>How often deadlines are checked while attempts are in flight.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);

    // The tick keeps running this long after the last attempt ended, so a trickle of requests does not start and
    // stop the timer for each one.
    private static readonly long IdleStop = Stopwatch.Frequency;

    private static readonly Lock Gate = new();
    private static readonly Timer Ticker = new(static _ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
    private static AttemptTimer?[] _slots = new AttemptTimer?[256];
    private static int[] _free = new int[256];
    private static int _freeCount;
    private static int _used; // Slots ever handed out: [0, _used) is what a tick scans.
    private static int _live;
    private static long _lastBusy;
    private static bool _ticking;

    /// <summary>Attempts registered now (for tests and diagnostics).</summary>
    public static int Live => Volatile.Read(ref _live);

    public static int Add(AttemptTimer timer)
    {
        lock (Gate)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                if (_used == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                    Array.Resize(ref _free, _free.Length * 2);
                }

                slot = _used++;
            }

            _slots[slot] = timer;
            _live++;
            if (!_ticking)
            {
                _ticking = true;
                Ticker.Change(Period, Period);
            }

            return slot;
        }
    }

    public static void Remove(int slot, AttemptTimer timer)
    {
        lock (Gate)
        {
            if (!ReferenceEquals(_slots[slot], timer))
            {
                return; // Already removed.
            }

            _slots[slot] = null;
            _free[_freeCount++] = slot;
            _live--;
        }
    }

    private static void Tick()
    {
        var now = Stopwatch.GetTimestamp();
        List<AttemptTimer>? expired = null;
        lock (Gate)
        {
            for (var i = 0; i < _used; i++)
            {
                if (_slots[i] is { } timer && timer.IsDue(now))
                {
                    (expired ??= []).Add(timer);
                }
            }

            if (_live > 0)
            {
                _lastBusy = now;
            }
            else if (now - _lastBusy > IdleStop && _ticking)
            {
                _ticking = false;
                Ticker.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }

        // Outside the lock: cancelling runs the upstream call's callbacks, which may end the attempt (and Remove it).
        if (expired is not null)
        {
            foreach (var timer in expired)
            {
                timer.Expire();
            }
        }
    }
}
