using Microsoft.Extensions.Hosting;

namespace Proxy.Host.Runtime;

/// <summary>
/// Gives memory back after a burst. The collector sizes its heap for the load it last saw and, with no allocations
/// after the load stops, never runs again to shrink it: after 1,000 concurrent streams the gateway stayed at 2.5x its
/// idle RSS for minutes. Once the process has been quiet for a check interval (under 1 MB allocated in 10 s)
/// after being busy, one aggressive full collection decommits what the heap no longer needs (and lets the shared
/// array pool trim). At most once per quiet period; never while requests are flowing.
/// </summary>
internal sealed class IdleMemoryTrim(TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private const long QuietBytes = 1 << 20;
    private const long BusyBytes = 16L << 20; // Allocated since the last trim: enough for a trim to be worth a full GC.

    /// <summary>Quiet now (under 1 MB in the last interval) after enough work since the last trim to have grown the heap.</summary>
    internal static bool ShouldTrim(long allocatedInInterval, long allocatedSinceTrim) =>
        allocatedInInterval < QuietBytes && allocatedSinceTrim >= BusyBytes;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var last = GC.GetTotalAllocatedBytes();
        var sinceTrim = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = GC.GetTotalAllocatedBytes();
                var allocated = now - last;
                last = now;
                sinceTrim += allocated;
                if (ShouldTrim(allocated, sinceTrim))
                {
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    sinceTrim = 0;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
