using System.Collections.Concurrent;

namespace Proxy.Pipeline;

/// <summary>
/// Keeps a flood of identical warnings to one line per interval. A warning's kind is its event id and a key (such as
/// provider and reason); the first of a kind is written, repeats within the interval are only counted, and the next
/// line of that kind written carries the count. When a provider fails for 10,000 requests a second, the log gets one
/// line every interval instead of 10,000 a second: those would cost the CPU and disk the gateway needs at the worst
/// moment, and bury everything else. Keys never hold request ids, so the kinds are bounded by the config (providers,
/// targets, routes) and fixed reason lists. Lock-free once a kind exists: a dictionary read, then one compare-exchange
/// or one increment.
/// </summary>
public sealed class LogThrottle(TimeProvider time, TimeSpan interval)
{
    private readonly ConcurrentDictionary<(int EventId, string Key, string SubKey), Slot> _slots = new();
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * time.TimestampFrequency);

    public TimeSpan Interval => interval;

    /// <summary>
    /// Whether to write this warning now. When true, <paramref name="suppressed"/> is how many of its kind were not
    /// written since the last line of that kind (0 for the first); when false, this one is counted among them.
    /// </summary>
    public bool ShouldWrite(int eventId, string key, string subKey, out long suppressed)
    {
        var slot = _slots.GetOrAdd((eventId, key, subKey), static _ => new Slot());
        long now = time.GetTimestamp();
        long due = Volatile.Read(ref slot.Due);
        // One writer per interval: whoever moves Due forward writes; everyone else within the interval counts.
        if (now >= due && Interlocked.CompareExchange(ref slot.Due, now + _intervalTicks, due) == due)
        {
            suppressed = Interlocked.Exchange(ref slot.Suppressed, 0);
            return true;
        }
        Interlocked.Increment(ref slot.Suppressed);
        suppressed = 0;
        return false;
    }

    /// <summary>The tail a written line carries: empty when nothing was suppressed, else how many were.</summary>
    public static string Repeats(long suppressed) =>
        suppressed == 0 ? "" : $" [{suppressed} more like this since the previous line were not logged]";

    private sealed class Slot
    {
        /// <summary>Timestamp from which the next line of this kind may be written; 0 lets the first through.</summary>
        public long Due;
        public long Suppressed;
    }
}
