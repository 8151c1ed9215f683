using System.Diagnostics;
using System.Runtime.InteropServices;
using Proxy.Benchmarks;
using Xunit.Abstractions;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>
/// Holds the CPU the gateway spends per proxied request (the in-process pipeline of <see cref="InProcessGateway"/>)
/// to a budget, as <see cref="AllocationBudgetTests"/> does for bytes. Numbers and how they were set: perf/README.md.
/// </summary>
/// <remarks>
/// Wall time would flake on a shared 2-core CI machine, so this counts the CPU time of the one thread that runs the
/// requests (CLOCK_THREAD_CPUTIME_ID): time the thread waits for a core is not in it, nor is any other process's or
/// test's work. Every request must complete synchronously on that thread (the harness's upstream answers from memory),
/// or the clock would miss work done elsewhere; the test checks that. The project runs without tiered compilation
/// (Proxy.Core.Tests.csproj), so the code measured is the same in every run instead of whatever the background
/// compiler had reached. What remains is noise that only ever adds (a busy neighbour on the same core, a gen0 GC in a
/// round), so the absolute number is the best of many rounds.
/// Two bounds: an absolute one, generous because a CI machine may be slower than the one that set it; and one relative
/// to the harness itself (the same context set-up with a trivial handler, measured in the same rounds), which cancels
/// most of the machine's speed and is tight enough that a pipeline twice as slow fails it.
/// </remarks>
[Collection(nameof(AllocationBudget))]
public sealed class CpuBudgetTests(ITestOutputHelper output)
{
    // Measured 2026-12-05 on the 2-core dev VM with other engineers' builds and load runs on it (load average 8-12),
    // six runs: plain 4.66-4.98 us (median 4.73), 3.80-4.51x the harness (median 4.24); streamed 5.79-6.61 us
    // (median 6.09), 4.39-5.32x (median 4.89). Absolute budgets are 3x those medians (a slower CI machine), relative
    // ones 1.6x: the worst run here was 1.09x its median, and with every request sent twice the ratio measured
    // 8.9-11.0x and both tests failed. perf/README.md.
    private const double PlainBudgetUs = 14;
    private const double StreamBudgetUs = 18;
    private const double PlainRatioBudget = 6.8;
    private const double StreamRatioBudget = 7.8;

    // Short rounds, many of them: the shorter a round, the more alike the machine is for its two halves.
    private const int Rounds = 61;
    private const int PerRound = 300;

    // The limits stage with all three kinds on the key, in memory (the embedded default), against the same request with
    // none, each round both back to back: measured 2026-12-06 on the 2-core dev VM +0.81-0.92 us (three runs; +1.07-1.24
    // before counters were kept on their rules and a decided request's reset was read once). Budget 3x, as above: it
    // catches a stage that starts allocating or locking per check, not noise. The wire cost (six more response headers
    // through Kestrel) is perf/ab.sh's to measure: perf/README.md.
    private const double LimitsBudgetUs = 2.5;

    [Fact]
    public void LimitedRequest_AddsLittleCpu()
    {
        var cost = OnOwnThread(() =>
        {
            using var plain = new InProcessGateway();
            using var limited = new InProcessGateway(keyLines: InProcessGateway.AllLimits);
            return Measure(() => limited.SendAsync(InProcessGateway.ChatBody), () => plain.SendAsync(InProcessGateway.ChatBody));
        });
        output.WriteLine($"limits: +{cost.MedianDifferenceUs:F3} us CPU/request in process (limited {cost.GatewayUs:F2}, plain {cost.HarnessUs:F2}, " +
            $"median of {Rounds} rounds' differences; clock {ThreadCpu.Source}); budget {LimitsBudgetUs} us");
        Assert.True(cost.MedianDifferenceUs <= LimitsBudgetUs, $"the limits stage costs {cost.MedianDifferenceUs:F3} us of CPU per request, budget {LimitsBudgetUs} us");
    }

    [Fact]
    public void PlainRequest_StaysWithinCpuBudget() => Check("plain", InProcessGateway.ChatBody, PlainBudgetUs, PlainRatioBudget);

    [Fact]
    public void StreamedRequest_StaysWithinCpuBudget() => Check("stream", InProcessGateway.StreamBody, StreamBudgetUs, StreamRatioBudget);

    private void Check(string name, byte[] body, double budgetUs, double ratioBudget)
    {
        var cost = OnOwnThread(() =>
        {
            using var gateway = new InProcessGateway();
            return Measure(() => gateway.SendAsync(body), () => InProcessGateway.BaselineAsync(InProcessGateway.ChatBody));
        });
        double pipelineUs = cost.GatewayUs - cost.HarnessUs;
        double ratio = cost.Ratio;
        output.WriteLine($"{name}: {pipelineUs:F2} us CPU/request (gateway {cost.GatewayUs:F2}, harness {cost.HarnessUs:F2}; " +
            $"{ratio:F2}x the harness, median of {Rounds} rounds; clock {ThreadCpu.Source}); budget {budgetUs} us and {ratioBudget}x");
        Assert.True(pipelineUs <= budgetUs, $"{name} request costs {pipelineUs:F2} us of CPU, budget {budgetUs} us");
        Assert.True(ratio <= ratioBudget, $"{name} request costs {ratio:F2}x the harness's CPU, budget {ratioBudget}x");
    }

    /// <summary>
    /// Best microseconds of CPU per call of the gateway and of the harness, and the median over rounds of the pipeline's
    /// cost (gateway minus harness) relative to the harness. Each round runs both back to back, so the ratio compares
    /// numbers taken in the same few milliseconds: a slow spell of the machine (a busy neighbour on the same core,
    /// steal) stretches both and cancels.
    /// </summary>
    private static (double GatewayUs, double HarnessUs, double Ratio, double MedianDifferenceUs) Measure(Func<Task<int>> gateway, Func<Task<int>> harness)
    {
        // Fills caches and buffer pools before measuring.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1_000)
        {
            Run(gateway, 200);
            Run(harness, 200);
        }
        double bestGateway = double.MaxValue, bestHarness = double.MaxValue;
        var ratios = new double[Rounds];
        var differences = new double[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            double g = Run(gateway, PerRound), h = Run(harness, PerRound);
            bestGateway = Math.Min(bestGateway, g);
            bestHarness = Math.Min(bestHarness, h);
            ratios[round] = (g - h) / h;
            differences[round] = g - h;
        }
        Array.Sort(ratios);
        Array.Sort(differences);
        return (bestGateway, bestHarness, ratios[Rounds / 2], differences[Rounds / 2]);
    }

    /// <summary>Microseconds of this thread's CPU per call over <paramref name="count"/> calls.</summary>
    private static double Run(Func<Task<int>> action, int count)
    {
        long start = ThreadCpu.Nanoseconds();
        for (int i = 0; i < count; i++)
        {
            var task = action();
            // Anything not finished here ran (or runs) on another thread, which this thread's clock does not see.
            if (!task.IsCompleted) throw new InvalidOperationException("a request did not complete synchronously: thread CPU time would miss part of it");
            if (task.Result != 200) throw new InvalidOperationException($"a request answered {task.Result}");
        }
        return (ThreadCpu.Nanoseconds() - start) / 1_000.0 / count;
    }

    /// <summary>Runs on a fresh thread with no synchronization context, so every continuation stays on it.</summary>
    private static T OnOwnThread<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException("measurement failed: " + failure.Message, failure);
        return result;
    }

    /// <summary>The calling thread's CPU time: clock_gettime(CLOCK_THREAD_CPUTIME_ID) on Linux, where CI runs.</summary>
    private static class ThreadCpu
    {
        private const int ClockThreadCpuTimeId = 3;

        /// <summary>Elsewhere the whole process's CPU time: noisier (other tests' threads count), still an upper bound.</summary>
        public static string Source => OperatingSystem.IsLinux() ? "thread CPU" : "process CPU";

        public static long Nanoseconds()
        {
            if (!OperatingSystem.IsLinux()) return Process.GetCurrentProcess().TotalProcessorTime.Ticks * 100;
            if (ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
            return ts.Seconds * 1_000_000_000 + ts.Nanoseconds;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = false)]
        private static extern int ClockGetTime(int clockId, out Timespec value);
    }
}
