namespace Proxy.Limits;

/// <summary>
/// The breaker in front of a shared store (limits, budgets, the response cache): after <see cref="FailuresToOpen"/>
/// failed calls in a row the store is skipped for <see cref="OpenFor"/>, then calls try it again, so a store that comes
/// back is used again without a restart. A success writes only when it has something to reset: the common case reads
/// a shared field and leaves its cache line alone.
/// </summary>
public sealed class StoreBreaker(TimeProvider time)
{
    public const int FailuresToOpen = 3;
    public static readonly TimeSpan OpenFor = TimeSpan.FromSeconds(1);

    private int _consecutiveFailures;
    private long _openUntilMs;

    /// <summary>Whether calls skip the store now.</summary>
    public bool IsOpen => time.GetUtcNow().ToUnixTimeMilliseconds() < Volatile.Read(ref _openUntilMs);

    public void Succeeded()
    {
        if (Volatile.Read(ref _consecutiveFailures) != 0) Volatile.Write(ref _consecutiveFailures, 0);
    }

    public void Failed()
    {
        if (Interlocked.Increment(ref _consecutiveFailures) < FailuresToOpen) return;
        Volatile.Write(ref _openUntilMs, time.GetUtcNow().ToUnixTimeMilliseconds() + (long)OpenFor.TotalMilliseconds);
        Volatile.Write(ref _consecutiveFailures, 0);
    }
}
