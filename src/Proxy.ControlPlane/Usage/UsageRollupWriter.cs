using Microsoft.Extensions.Logging;

namespace Proxy.ControlPlane.Usage;

/// <summary>
/// Flushes a <see cref="UsageRollup"/> every <see cref="Interval"/> until cancelled, then once more within
/// <see cref="FinalFlushTimeout"/>. A failed flush is retried after a doubling wait (from twice the interval up to
/// <see cref="MaxBackoff"/>); nothing is lost meanwhile, the sums stay pending. <see cref="RunAsync"/> never throws.
/// </summary>
public sealed partial class UsageRollupWriter
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultFinalFlushTimeout = TimeSpan.FromSeconds(5);

    private readonly UsageRollup _rollup;
    private readonly ILogger _logger;

    public UsageRollupWriter(UsageRollup rollup, ILogger logger, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(rollup);
        ArgumentNullException.ThrowIfNull(logger);
        var every = interval ?? DefaultInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, TimeSpan.Zero, nameof(interval));
        _rollup = rollup;
        _logger = logger;
        Interval = every;
    }

    public TimeSpan Interval { get; }

    /// <summary>How long the flush after cancellation may take (best effort: what it cannot write is logged as lost).</summary>
    public TimeSpan FinalFlushTimeout { get; init; } = DefaultFinalFlushTimeout;

    public async Task RunAsync(CancellationToken ct)
    {
        var delay = Interval;
        // The cap: 30 s, or the interval when that is longer (backing off never flushes more often than the interval).
        var cap = Interval > MaxBackoff ? Interval : MaxBackoff;
        int failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                await _rollup.FlushAsync(ct);
                if (failures > 0) Recovered(_logger, failures);
                failures = 0;
                delay = Interval;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                failures++;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, cap.Ticks));
                FlushFailed(_logger, e.GetType().Name, e.Message, _rollup.Pending, delay.TotalSeconds);
            }
        }

        try
        {
            using var deadline = new CancellationTokenSource(FinalFlushTimeout);
            await _rollup.FlushAsync(deadline.Token);
        }
        catch (Exception e)
        {
            FinalFlushFailed(_logger, e.GetType().Name, e.Message, _rollup.Pending);
            return;
        }
        if (_rollup.InDoubt > 0) FinalInDoubt(_logger, _rollup.InDoubt);
    }

    [LoggerMessage(1, LogLevel.Warning, "Usage rollup: flush to Postgres failed ({Kind}: {Failure}); {Pending} groups kept pending, next try in {RetrySeconds}s")]
    private static partial void FlushFailed(ILogger logger, string kind, string failure, long pending, double retrySeconds);

    [LoggerMessage(2, LogLevel.Information, "Usage rollup: flush to Postgres works again after {Failures} failed tries")]
    private static partial void Recovered(ILogger logger, int failures);

    [LoggerMessage(3, LogLevel.Error, "Usage rollup: the last flush at shutdown failed ({Kind}: {Failure}); the usage of {Pending} groups is not written")]
    private static partial void FinalFlushFailed(ILogger logger, string kind, string failure, long pending);

    [LoggerMessage(4, LogLevel.Error, "Usage rollup: at shutdown, Postgres could not confirm whether a batch of {Groups} groups committed; its usage may be missing")]
    private static partial void FinalInDoubt(ILogger logger, long groups);
}
