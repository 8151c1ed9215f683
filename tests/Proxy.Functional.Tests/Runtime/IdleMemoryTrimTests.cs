using Proxy.Host.Runtime;

namespace Proxy.Functional.Tests.Runtime;

public class IdleMemoryTrimTests
{
    [Theory]
    [InlineData(0, 16L << 20, true)]              // quiet after a burst: trim
    [InlineData(512 << 10, 200L << 20, true)]     // a trickle (a few slow streams) still counts as quiet
    [InlineData(2 << 20, 200L << 20, false)]      // requests still flowing: never collect under load
    [InlineData(0, 4L << 20, false)]              // quiet, but not enough work since the last trim to be worth a full GC
    public void Trims_only_when_quiet_after_enough_work(long allocatedInInterval, long allocatedSinceTrim, bool trims) =>
        Assert.Equal(trims, IdleMemoryTrim.ShouldTrim(allocatedInInterval, allocatedSinceTrim));
}
