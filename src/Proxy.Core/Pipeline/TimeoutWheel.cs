using System.Diagnostics;

namespace Proxy.Pipeline;

/// <summary>
/// The one timer behind every attempt's deadline. An attempt re-arms its deadline on each upstream read (first byte,
/// then idle between chunks); with a CancellationTokenSource.CancelAfter per attempt each re-arm was a timer-queue
/// operation under a lock, and the runtime's timer thread woke to re-sort them. Here a re-arm is one field write
/// (<see cref="AttemptTimer.ArmAt"/>), and one thread ticking every <see cref="Period"/> while attempts are in flight
/// (parked when none are) cancels those whose deadline has passed. Deadlines fire up to one <see cref="Period"/>
/// late, which is nothing against timeouts measured in hundreds of milliseconds or more. Registration is lock-free
/// (a compare-and-swap into a free slot, each thread probing from its own place), so I/O threads never wait on each
/// other here.
/// </summary>
internal static class TimeoutWheel
{
    /// <summary>How often deadlines are checked while attempts are in flight.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);

    private const int SegmentBits = 10;
    private const int SegmentSize = 1 << SegmentBits;
    private const int MaxSegments = 4096; // 4M attempts in flight.
    private const int ProbeLimit = 32; // A longer search for a free slot means the wheel is crowded: grow it.

    // The tick keeps running this long after the last attempt ended, so a trickle of requests does not start and
    // stop the timer for each one.
    private static readonly long IdleStop = Stopwatch.Frequency;

    private static readonly AttemptTimer?[]?[] Segments = new AttemptTimer?[]?[MaxSegments];
    // Growing, and waking or parking the ticker: both rare. An object (not Lock) for Monitor.Wait/Pulse.
    private static readonly object Transitions = new();
    private static int _segmentCount;
    private static int _ticking = 1; // The ticker thread starts ticking and parks itself after a second idle.
    private static long _lastBusy;

    [ThreadStatic]
    private static int t_hint;

    static TimeoutWheel()
    {
        Segments[0] = new AttemptTimer?[SegmentSize];
        _segmentCount = 1;
        // A thread of its own, not a System.Threading.Timer: a timer callback is a thread-pool work item, and waking
        // a parked pool worker 100 times a second made it spin (sched_yield) each time, more than the timers saved.
        new Thread(Run) { IsBackground = true, Name = "timeout-wheel" }.Start();
    }

    /// <summary>Attempts registered now (a scan: for tests and diagnostics).</summary>
    public static int Live
    {
        get
        {
            var live = 0;
            ForEach(_ => live++);
            return live;
        }
    }

    public static int Add(AttemptTimer timer)
    {
        while (true)
        {
            var capacity = Volatile.Read(ref _segmentCount) << SegmentBits;
            // Threads start apart, so the I/O threads do not all contend for the same first slots.
            var start = t_hint != 0 ? t_hint : Environment.CurrentManagedThreadId * 61;
            for (var probe = 0; probe < ProbeLimit; probe++)
            {
                var slot = (int)((uint)(start + probe) % (uint)capacity);
                ref var cell = ref Segments[slot >> SegmentBits]![slot & (SegmentSize - 1)];
                if (cell is null && Interlocked.CompareExchange(ref cell, timer, null) is null)
                {
                    t_hint = slot + 1;
                    EnsureTicking();
                    return slot;
                }
            }

            Grow(capacity);
            t_hint = capacity; // The new segment is empty.
        }
    }

    public static void Remove(int slot, AttemptTimer timer) =>
        Interlocked.CompareExchange(ref Segments[slot >> SegmentBits]![slot & (SegmentSize - 1)], null, timer);

    private static void Grow(int seenCapacity)
    {
        lock (Transitions)
        {
            var count = _segmentCount;
            if (count << SegmentBits != seenCapacity || count == MaxSegments)
            {
                return; // Someone else grew it (or it is as large as it gets): probe again.
            }

            Segments[count] = new AttemptTimer?[SegmentSize];
            Volatile.Write(ref _segmentCount, count + 1);
        }
    }

    // After the slot's compare-and-swap (a full fence): either this sees the ticker stopping, or the stopping tick's
    // re-scan sees the new attempt. Never both missed.
    private static void EnsureTicking()
    {
        if (Volatile.Read(ref _ticking) != 0)
        {
            return;
        }

        lock (Transitions)
        {
            if (_ticking == 0)
            {
                _ticking = 1;
                Monitor.Pulse(Transitions);
            }
        }
    }

    private static void Run()
    {
        while (true)
        {
            Thread.Sleep(Period);
            Tick();
        }
    }

    private static void Tick()
    {
        var now = Stopwatch.GetTimestamp();
        List<AttemptTimer>? expired = null;
        var live = 0;
        ForEach(timer =>
        {
            live++;
            if (timer.IsDue(now))
            {
                (expired ??= []).Add(timer);
            }
        });

        if (live > 0)
        {
            _lastBusy = now;
        }
        else if (now - _lastBusy > IdleStop)
        {
            StopIfStillIdle();
        }

        // Cancelling runs the upstream call's callbacks, which may end the attempt (and Remove it): not mid-scan.
        if (expired is not null)
        {
            foreach (var timer in expired)
            {
                timer.Expire();
            }
        }
    }

    /// <summary>Parks the ticker until the next attempt, unless one arrived meanwhile.</summary>
    private static void StopIfStillIdle()
    {
        lock (Transitions)
        {
            Interlocked.Exchange(ref _ticking, 0);
            var live = 0;
            ForEach(_ => live++);
            if (live > 0)
            {
                _ticking = 1; // An attempt arrived meanwhile and saw the ticker running: keep it so.
                return;
            }

            while (_ticking == 0)
            {
                Monitor.Wait(Transitions);
            }

            _lastBusy = Stopwatch.GetTimestamp();
        }
    }

    private static void ForEach(Action<AttemptTimer> visit)
    {
        var count = Volatile.Read(ref _segmentCount);
        for (var s = 0; s < count; s++)
        {
            var segment = Segments[s]!;
            for (var i = 0; i < segment.Length; i++)
            {
                if (Volatile.Read(ref segment[i]) is { } timer)
                {
                    visit(timer);
                }
            }
        }
    }
}
