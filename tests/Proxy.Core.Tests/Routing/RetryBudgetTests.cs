using Proxy.Routing;

namespace Proxy.Core.Tests.Routing;

public sealed class RetryBudgetTests
{
    private readonly ManualTime _time = new();

    [Fact]
    public void NoTraffic_MinPerSecondStillAllowsThatManyPerWindow()
    {
        var budget = new RetryBudget(new RetryBudgetSettings { Ratio = 0.2, MinPerSecond = 2, Window = TimeSpan.FromSeconds(5) }, _time);
        for (int i = 0; i < 10; i++) Assert.True(budget.TryWithdraw(), $"retry {i}");
        Assert.False(budget.TryWithdraw());
    }

    [Fact]
    public void Ratio_AllowsThatShareOfTheWindowsRequests()
    {
        var budget = new RetryBudget(new RetryBudgetSettings { Ratio = 0.2, MinPerSecond = 0, Window = TimeSpan.FromSeconds(10) }, _time);
        for (int i = 0; i < 100; i++) budget.OnRequest();
        int allowed = 0;
        while (budget.TryWithdraw()) allowed++;
        Assert.Equal(20, allowed);
    }

    [Fact]
    public void Window_Slides_SpentBudgetComesBack()
    {
        var budget = new RetryBudget(new RetryBudgetSettings { Ratio = 0, MinPerSecond = 1, Window = TimeSpan.FromSeconds(2) }, _time);
        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(budget.TryWithdraw());
        _time.Advance(TimeSpan.FromSeconds(1.1));
        Assert.True(budget.TryWithdraw());
    }

    [Fact]
    public void RequestsAgeOut_TheirShareWithThem()
    {
        var budget = new RetryBudget(new RetryBudgetSettings { Ratio = 0.5, MinPerSecond = 0, Window = TimeSpan.FromSeconds(10) }, _time);
        for (int i = 0; i < 10; i++) budget.OnRequest();
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.False(budget.TryWithdraw());
    }
}
