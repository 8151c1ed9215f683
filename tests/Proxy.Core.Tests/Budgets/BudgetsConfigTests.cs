using Proxy.Budgets;
using Proxy.Limits;

namespace Proxy.Core.Tests.Budgets;

/// <summary>The budget: blocks of keys and teams: rules in nano-USD built once, periods, thresholds, mistakes named with their line.</summary>
public sealed class BudgetsConfigTests
{
    private static string Config(string top = "", string keyExtra = "") => $$"""
        {{top}}
        providers:
          mock: { type: mock }
        routes:
          fast:
            provider: mock
        keys:
          - id: team-a
            hash: {{ConfigLoaderTests.DemoHash}}
        {{keyExtra}}
        """;

    [Fact]
    public void KeyAndTeamBudgets_TheKeysFirst_InNanoUsd_ClosedByDefault()
    {
        var c = ConfigLoaderTests.Parse(Config(
            top: """
                teams:
                  acme:
                    budget: { usd: 1000.5, period: day, on_store_failure: open }
                """,
            keyExtra: """
                    team: acme
                    budget: { usd: 50, period: month, soft_thresholds: [0.8, 0.95] }
                """));
        var key = c.Keys.Find(ConfigLoaderTests.DemoKey)!;
        Assert.Equal(2, key.Budgets.Length);
        var own = key.Budgets[0];
        Assert.Equal((BudgetScope.Key, "team-a", 50_000_000_000L, BudgetPeriod.Month, StoreFailureMode.Closed),
            (own.Scope, own.Holder, own.LimitNanoUsd, own.Period, own.OnStoreFailure));
        Assert.Equal([0.8, 0.95], own.SoftThresholds);
        Assert.Equal([40_000_000_000L, 47_500_000_000L], own.ThresholdNanoUsd);
        Assert.Equal(["0.8", "0.95"], own.ThresholdLabels);
        Assert.Equal("budget:key:team-a:m", own.Counter);
        var team = key.Budgets[1];
        Assert.Same(key.Team!.Budget, team);
        Assert.Equal((BudgetScope.Team, "acme", 1_000_500_000_000L, BudgetPeriod.Day, StoreFailureMode.Open),
            (team.Scope, team.Holder, team.LimitNanoUsd, team.Period, team.OnStoreFailure));
        Assert.Equal("budget:team:acme:d", team.Counter);
    }

    [Theory]
    [InlineData("month", BudgetPeriodKind.Month, 0, "month")]
    [InlineData("day", BudgetPeriodKind.Day, 0, "day")]
    [InlineData("7d", BudgetPeriodKind.Rolling, 168, "7d")]
    [InlineData("24h", BudgetPeriodKind.Rolling, 24, "1d")]
    [InlineData("36h", BudgetPeriodKind.Rolling, 36, "36h")]
    [InlineData("31d", BudgetPeriodKind.Rolling, 744, "31d")]
    public void Periods(string text, BudgetPeriodKind kind, int hours, string name)
    {
        var c = ConfigLoaderTests.Parse(Config(keyExtra: $"    budget: {{ usd: 1, period: {text} }}"));
        var rule = Assert.Single(c.Keys.Find(ConfigLoaderTests.DemoKey)!.Budgets);
        Assert.Equal((kind, hours, name), (rule.Period.Kind, rule.Period.Hours, rule.Period.Name));
    }

    [Fact]
    public void NoBudget_NoRules()
    {
        var c = ConfigLoaderTests.Parse(Config(top: "teams: { acme: { limits: { requests_per_minute: 5 } } }", keyExtra: "    team: acme"));
        var key = c.Keys.Find(ConfigLoaderTests.DemoKey)!;
        Assert.Empty(key.Budgets);
        Assert.Null(BudgetsStage.RulesFor(key));
    }

    [Theory]
    [InlineData("    budget: { period: day }", "keys[0].budget.usd", "missing: the budget in USD")]
    [InlineData("    budget: { usd: 0 }", "keys[0].budget.usd", "must be more than 0")]
    [InlineData("    budget: { usd: -3 }", "keys[0].budget.usd", "not a number between 0 and 1000000")]
    [InlineData("    budget: { usd: 2000000 }", "keys[0].budget.usd", "not a number between 0 and 1000000")]
    [InlineData("    budget: { usd: lots }", "keys[0].budget.usd", "not a number")]
    [InlineData("    budget: { usd: 5, period: week }", "keys[0].budget.period", "not a budget period; one of: day, month")]
    [InlineData("    budget: { usd: 5, period: 0h }", "keys[0].budget.period", "out of range: from 1h to 31d")]
    [InlineData("    budget: { usd: 5, period: 32d }", "keys[0].budget.period", "out of range")]
    [InlineData("    budget: { usd: 5, period: 1.5d }", "keys[0].budget.period", "not a budget period")]
    [InlineData("    budget: { usd: 5, soft_thresholds: [0.8, 1.2] }", "keys[0].budget.soft_thresholds[1]", "between 0 and 1")]
    [InlineData("    budget: { usd: 5, soft_thresholds: [0.9, 0.8] }", "keys[0].budget.soft_thresholds[1]", "ascending")]
    [InlineData("    budget: { usd: 5, soft_thresholds: 0.8 }", "keys[0].budget.soft_thresholds", "expected a list")]
    [InlineData("    budget: { usd: 5, on_store_failure: maybe }", "keys[0].budget.on_store_failure", "not a fail mode")]
    [InlineData("    budget: { usd: 5, dollars: 5 }", "keys[0].budget.dollars", "unknown field 'dollars'")]
    [InlineData("    budget: 50", "keys[0].budget", "expected a mapping")]
    public void KeyMistakes_NamedWithTheirPathAndLine(string keyExtra, string path, string reason)
    {
        var e = ConfigLoaderTests.Invalid(Config(keyExtra: keyExtra));
        var error = Assert.Single(e.Errors, x => x.Path == path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void TeamMistake_NamedWithItsPath()
    {
        var e = ConfigLoaderTests.Invalid(Config(top: "teams: { acme: { budget: { usd: 5, period: fortnight } } }"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("teams.acme.budget.period", error.Path);
        Assert.True(error.Line > 0);
    }
}
