using Proxy.Core.Tests.Routing;
using Proxy.Limits;

namespace Proxy.Redis.Tests;

/// <summary>The shared scenarios on the embedded store, plus those that step its (manual) clock.</summary>
public sealed class InMemoryScenarios : LimitStoreScenarios
{
    private readonly ManualTime _time = new();
    private readonly InMemoryLimitStore _store;

    public InMemoryScenarios() => _store = new InMemoryLimitStore(_time);

    protected override ILimitStore Store => _store;

    [Fact]
    public async Task The_window_slides_one_second_slot_at_a_time()
    {
        var rpm = Rule(LimitKind.Requests, 2);
        Assert.True((await Admit(new LimitCheck(rpm, 1))).States[0].Fits);
        _time.Advance(TimeSpan.FromSeconds(20));
        var second = await Admit(new LimitCheck(rpm, 1));
        Assert.Equal(TimeSpan.FromSeconds(60), second.States[0].Reset);
        _time.Advance(TimeSpan.FromSeconds(10.5));

        var refused = await Admit(new LimitCheck(rpm, 1));
        Assert.False(refused.States[0].Fits);
        Assert.Equal(TimeSpan.FromSeconds(29.5), refused.States[0].RetryAfter); // the first slot leaves at 60 s
        Assert.Equal(TimeSpan.FromSeconds(49.5), refused.States[0].Reset);

        _time.Advance(TimeSpan.FromSeconds(29.5));
        Assert.True((await Admit(new LimitCheck(rpm, 1))).States[0].Fits);
    }

    [Fact]
    public async Task Settling_after_the_reserved_slot_left_counts_only_growth()
    {
        var tpm = Rule(LimitKind.Tokens, 1000);
        LimitCheck[] checks = [new(tpm, 500)];
        var d = await Store.AdmitAsync(checks, "x", LeaseTtl, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(61));
        await Store.SettleAsync(checks, d, "x", tokensUsed: 100);
        Assert.Equal(1000, await Left(tpm));
        await Store.SettleAsync(checks, d, "x", tokensUsed: 900);
        Assert.Equal(600, await Left(tpm));
    }
}
