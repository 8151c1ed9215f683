namespace Proxy.Routing;

/// <summary>A breaker's state; the numbers are the circuit_breaker_state gauge's values (worse is higher).</summary>
public enum BreakerState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>What a call to the breaker changed, for the transitions counter and the log.</summary>
public enum BreakerTransition
{
    None,
    Opened,
    HalfOpened,
    Closed,
}

/// <summary>A request's permission to call the target: which breaker generation it belongs to, and whether it is a probe.</summary>
public readonly record struct BreakerLease(int Generation, bool Probe);

/// <summary>
/// One target's circuit breaker. Closed, it counts failures: <see cref="BreakerSettings.ConsecutiveFailures"/> in a row,
/// or a <see cref="BreakerSettings.FailureRatio"/> of the calls in a sliding window, open it. Open, every strategy
/// skips the target for <see cref="BreakerSettings.OpenFor"/>; then it is half-open and lets
/// <see cref="BreakerSettings.HalfOpenProbes"/> requests through: that many successes close it, one failure opens it again.
/// Lock-free: the state and the probes in flight share one int changed by compare-and-swap, and each lease carries the
/// generation it was given in, so a late result from before a transition changes nothing.
/// </summary>
public sealed class CircuitBreaker
{
    // _state: 0 closed, -1 open, n >= 1 half-open with n - 1 probes in flight.
    private const int ClosedValue = 0;
    private const int OpenValue = -1;

    private readonly TimeProvider _time;
    private readonly SlidingCounts _window;
    private int _state;
    private int _generation;
    private int _consecutiveFailures;
    private int _probeSuccesses;
    private long _openUntil;

    public CircuitBreaker(BreakerSettings settings, TimeProvider time)
    {
        Settings = settings;
        _time = time;
        _window = new SlidingCounts(settings.Window, time);
    }

    public BreakerSettings Settings { get; }

    public BreakerState State => Volatile.Read(ref _state) switch
    {
        ClosedValue => BreakerState.Closed,
        OpenValue => BreakerState.Open,
        _ => BreakerState.HalfOpen,
    };

    /// <summary>Whether a request could have the target now (no side effect; <see cref="TryAcquire"/> decides).</summary>
    public bool IsAvailable()
    {
        int state = Volatile.Read(ref _state);
        if (state == ClosedValue) return true;
        if (state == OpenValue) return _time.GetTimestamp() >= Volatile.Read(ref _openUntil);
        return state - 1 < Settings.HalfOpenProbes;
    }

    /// <summary>Time until an open breaker lets a probe through; zero when it is not open.</summary>
    public TimeSpan OpenRemaining()
    {
        if (Volatile.Read(ref _state) != OpenValue) return TimeSpan.Zero;
        long left = Volatile.Read(ref _openUntil) - _time.GetTimestamp();
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / _time.TimestampFrequency);
    }

    /// <summary>Asks to call the target. Closed: always. Open past its time: the caller becomes the first probe.</summary>
    public bool TryAcquire(out BreakerLease lease, out BreakerTransition transition)
    {
        transition = BreakerTransition.None;
        while (true)
        {
            int state = Volatile.Read(ref _state);
            int generation = Volatile.Read(ref _generation);
            if (state == ClosedValue)
            {
                lease = new BreakerLease(generation, Probe: false);
                return true;
            }
            if (state == OpenValue)
            {
                if (_time.GetTimestamp() < Volatile.Read(ref _openUntil)) break;
                // Nobody else touches the probe count while open, so it is reset before the switch, not after.
                Volatile.Write(ref _probeSuccesses, 0);
                if (Interlocked.CompareExchange(ref _state, 2, OpenValue) != OpenValue) continue;
                transition = BreakerTransition.HalfOpened;
                lease = new BreakerLease(generation, Probe: true);
                return true;
            }
            if (state - 1 >= Settings.HalfOpenProbes) break;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                lease = new BreakerLease(generation, Probe: true);
                return true;
            }
        }
        lease = default;
        return false;
    }

    /// <summary>The result of a call made under <paramref name="lease"/>: success (the target answered) or failure.</summary>
    public BreakerTransition Record(in BreakerLease lease, bool success)
    {
        if (lease.Generation != Volatile.Read(ref _generation)) return BreakerTransition.None;
        if (lease.Probe) return success ? ProbeSucceeded(lease) : Trip(lease.Generation, fromClosed: false);

        if (success)
        {
            if (Volatile.Read(ref _consecutiveFailures) != 0) Volatile.Write(ref _consecutiveFailures, 0);
            _window.Add(1, 0);
            return BreakerTransition.None;
        }
        int consecutive = Interlocked.Increment(ref _consecutiveFailures);
        _window.Add(1, 1);
        var s = Settings;
        bool trip = s.ConsecutiveFailures > 0 && consecutive >= s.ConsecutiveFailures;
        if (!trip && s.FailureRatio > 0)
        {
            var (calls, failures) = _window.Sum();
            trip = calls >= s.MinRequests && failures >= s.FailureRatio * calls;
        }
        return trip ? Trip(lease.Generation, fromClosed: true) : BreakerTransition.None;
    }

    /// <summary>A call that ended with no verdict on the target (the client left): gives a probe slot back.</summary>
    public void Release(in BreakerLease lease)
    {
        if (!lease.Probe || lease.Generation != Volatile.Read(ref _generation)) return;
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state < 2 || Interlocked.CompareExchange(ref _state, state - 1, state) == state) return;
        }
    }

    private BreakerTransition ProbeSucceeded(in BreakerLease lease)
    {
        bool enough = Interlocked.Increment(ref _probeSuccesses) >= Settings.HalfOpenProbes;
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state < 1 || Volatile.Read(ref _generation) != lease.Generation) return BreakerTransition.None;
            if (enough)
            {
                if (Interlocked.CompareExchange(ref _state, ClosedValue, state) != state) continue;
                Volatile.Write(ref _consecutiveFailures, 0);
                _window.Reset();
                Interlocked.Increment(ref _generation);
                return BreakerTransition.Closed;
            }
            if (state < 2 || Interlocked.CompareExchange(ref _state, state - 1, state) == state) return BreakerTransition.None;
        }
    }

    private BreakerTransition Trip(int generation, bool fromClosed)
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (Volatile.Read(ref _generation) != generation) return BreakerTransition.None;
            if (fromClosed ? state != ClosedValue : state < 1) return BreakerTransition.None;
            // The deadline is in place before the state says open, so no reader sees open with an old deadline.
            Volatile.Write(ref _openUntil, _time.GetTimestamp() + (long)(Settings.OpenFor.TotalSeconds * _time.TimestampFrequency));
            if (Interlocked.CompareExchange(ref _state, OpenValue, state) != state) continue;
            Interlocked.Increment(ref _generation);
            return BreakerTransition.Opened;
        }
    }
}
