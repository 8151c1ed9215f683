namespace Proxy.Budgets;

/// <summary>
/// Where spend is counted: in this process (<see cref="InMemoryBudgetStore"/>, the embedded default) or shared by every
/// replica (the Redis store, plugged in by name). Amounts are integer nano-USD; each period's counter is named by the
/// period's start on the store's own clock, so every replica charges the same counter.
/// </summary>
public interface IBudgetStore
{
    /// <summary>The name in config and metrics: <c>memory</c>, <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>What each of <paramref name="rules"/> has spent in its current period: one step (one round trip).</summary>
    ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct);

    /// <summary>
    /// Adds <paramref name="nanoUsd"/> to every rule's current period, atomically (no charge is lost or counted twice
    /// under concurrency), and answers what each has spent after it. May throw when the store fails.
    /// </summary>
    ValueTask<BudgetReading> ChargeAsync(BudgetRule[] rules, long nanoUsd, CancellationToken ct);
}
