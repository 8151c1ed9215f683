using Proxy.Core.Tests.Routing;
using Proxy.Limits;

namespace Proxy.Core.Tests.Limits;

/// <summary>A shared store that hangs or fails: the deadline holds, the fail mode decides, the breaker lets it back.</summary>
public sealed class GuardedLimitStoreTests
{
    private sealed class FlakyStore : ILimitStore
    {
        public volatile bool Hang;
        public volatile bool Throw;
        public int Calls;
        public string Name => "flaky";

        public async ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            if (Throw) throw new InvalidOperationException("connection refused");
            if (Hang) await Task.Delay(Timeout.Infinite, ct);
            return new LimitDecision([.. checks.Select(c => new LimitState(c.Limit, c.Limit - 1, TimeSpan.FromSeconds(60), true, TimeSpan.Zero))], 0);
        }

        public ValueTask SettleAsync(LimitCheck[] checks, LimitDecision decision, string leaseId, long tokensUsed) => ValueTask.CompletedTask;

        public ValueTask RenewAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl) => ValueTask.CompletedTask;
    }

    private static LimitCheck[] Checks(StoreFailureMode mode, long limit = 9) =>
        [new(new LimitRule(LimitScope.Key, "k", LimitKind.Requests, limit, false, mode), 1)];

    [Fact]
    public async Task HangingStore_AnsweredWithinTheTimeout_FailOpenDecidesLocallyAtTheReplicasShare()
    {
        var shared = new FlakyStore { Hang = true };
        var store = new GuardedLimitStore(shared, TimeSpan.FromMilliseconds(20), replicas: 3, TimeProvider.System);
        var checks = Checks(StoreFailureMode.Open);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var d = await store.AdmitAsync(checks, "a", TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.InRange(started.ElapsedMilliseconds, 15, 500);
        Assert.True(d.Local);
        Assert.NotNull(d.StoreFailure);
        Assert.True(d.Admitted(checks));
        Assert.Equal(3, d.States[0].Limit); // 9 / 3 replicas
    }

    [Fact]
    public async Task FailClosed_Refuses_NothingTaken()
    {
        var store = new GuardedLimitStore(new FlakyStore { Throw = true }, TimeSpan.FromMilliseconds(20), 3, TimeProvider.System);
        var checks = Checks(StoreFailureMode.Closed);
        var d = await store.AdmitAsync(checks, "a", TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(d.FailedClosed);
        Assert.False(d.Admitted(checks));
        Assert.Contains("connection refused", d.StoreFailure);
    }

    [Fact]
    public async Task Breaker_OpensAfterFailuresInARow_SkipsTheStore_ThenTriesItAgain()
    {
        var time = new ManualTime();
        var shared = new FlakyStore { Throw = true };
        var store = new GuardedLimitStore(shared, TimeSpan.FromMilliseconds(50), 1, time);
        var checks = Checks(StoreFailureMode.Open);
        for (int i = 0; i < GuardedLimitStore.FailuresToOpen; i++) await store.AdmitAsync(checks, "a" + i, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(store.BreakerOpen);
        int calls = shared.Calls;
        var skipped = await store.AdmitAsync(checks, "b", TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(calls, shared.Calls);
        Assert.Equal("breaker open", skipped.StoreFailure);

        shared.Throw = false; // Redis is back
        time.Advance(GuardedLimitStore.OpenFor);
        var back = await store.AdmitAsync(checks, "c", TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(back.Local);
        Assert.Null(back.StoreFailure);
        Assert.Equal(calls + 1, shared.Calls);
    }
}
