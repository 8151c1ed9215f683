namespace Proxy.Metrics;

/// <summary>
/// Per-core striping for the request path's counters: each core increments its own 64-byte line, so concurrent
/// requests on different cores never bounce a shared cache line (an Interlocked add on a contended line costs
/// tens of nanoseconds; on a core-local one a few). Readers sum the stripes at scrape time.
/// </summary>
internal static class Stripes
{
    /// <summary>Longs per cache line: stripes are this far apart.</summary>
    public const int LineLongs = 8;

    /// <summary>A power of two, at most 16: beyond that the memory per series outweighs the contention saved.</summary>
    public static readonly int Count = (int)Math.Min(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount));

    /// <summary>The current core's stripe (the runtime caches the processor id; this is a few nanoseconds).</summary>
    public static int Current => Thread.GetCurrentProcessorId() & (Count - 1);
}
