using Proxy.Limits;

namespace Proxy.Keys;

/// <summary>A group of keys that share limits and a budget: the config's <c>teams:</c> entries.</summary>
public sealed class Team
{
    public required string Name { get; init; }

    public LimitRule[] Limits { get; init; } = [];

    /// <summary>The spend the team's keys share per period; null when none.</summary>
    public Budgets.BudgetRule? Budget { get; init; }
}
