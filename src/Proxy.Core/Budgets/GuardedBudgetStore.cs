namespace Proxy.Budgets;

/// <summary>The budget store could not answer in time (timeout, error, breaker open): the budgets' fail mode decides.</summary>
public sealed class BudgetStoreException : Exception
{
    public BudgetStoreException() : base("the budget store failed")
    {
    }

    public BudgetStoreException(string message) : base(message)
    {
    }

    public BudgetStoreException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// A shared budget store behind a deadline and a breaker, like <see cref="Limits.GuardedLimitStore"/>: no request waits
/// on a slow or dead store past <paramref name="timeout"/>, and after <see cref="FailuresToOpen"/> failed reads in a row
/// reads skip the store for <see cref="OpenFor"/> and then try it again. A failure is a
/// <see cref="BudgetStoreException"/>; the budgets stage applies the fail mode. Charges happen after the answer, off
/// the request's path, so they get a longer deadline (<see cref="ChargeTimeout"/>) and ignore the breaker: a charge
/// is tried whenever there is one. A charge that timed out may still have reached the store.
/// </summary>
public sealed class GuardedBudgetStore(IBudgetStore shared, TimeSpan timeout, TimeProvider time) : IBudgetStore
{
    public const int FailuresToOpen = Limits.StoreBreaker.FailuresToOpen;
    public static readonly TimeSpan OpenFor = Limits.StoreBreaker.OpenFor;
    public static readonly TimeSpan MinChargeTimeout = TimeSpan.FromSeconds(1);

    private readonly Limits.StoreBreaker _breaker = new(time);

    public string Name => shared.Name;

    public TimeSpan ChargeTimeout { get; } = timeout > MinChargeTimeout ? timeout : MinChargeTimeout;

    public bool BreakerOpen => _breaker.IsOpen;

    public async ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct)
    {
        if (BreakerOpen) throw new BudgetStoreException("breaker open");
        try
        {
            var reading = await shared.ReadAsync(rules, ct).AsTask().WaitAsync(timeout, time, ct).ConfigureAwait(false);
            _breaker.Succeeded();
            return reading;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            _breaker.Failed();
            throw new BudgetStoreException(e is TimeoutException ? $"no answer within {timeout.TotalMilliseconds:0}ms" : e.Message, e);
        }
    }

    public async ValueTask<BudgetReading> ChargeAsync(BudgetRule[] rules, long nanoUsd, CancellationToken ct)
    {
        try
        {
            return await shared.ChargeAsync(rules, nanoUsd, ct).AsTask().WaitAsync(ChargeTimeout, time, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            throw new BudgetStoreException(e is TimeoutException ? $"no answer within {ChargeTimeout.TotalMilliseconds:0}ms" : e.Message, e);
        }
    }
}
