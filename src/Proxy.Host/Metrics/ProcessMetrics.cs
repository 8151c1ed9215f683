using System.Globalization;
using System.Text;
using Proxy.Metrics;

namespace Proxy.Host.Metrics;

/// <summary>
/// Process and runtime families under the names Prometheus client libraries use (process_*, dotnet_*), so existing
/// dashboards work. Read at scrape time from /proc and the runtime's own counters; nothing runs between scrapes.
/// </summary>
internal sealed class ProcessMetrics : IMetricsSource
{
    private static readonly DateTimeOffset StartedAt = DateTimeOffset.UtcNow;
    private static readonly long PageSize = Environment.SystemPageSize;
    private readonly byte[] _buildLabels;

    public ProcessMetrics()
    {
        var version = typeof(ProcessMetrics).Assembly.GetName().Version?.ToString() ?? "unknown";
        _buildLabels = Encoding.UTF8.GetBytes(
            $"version=\"{version}\",runtime=\"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}\",aot=\"{(!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported).ToString().ToLowerInvariant()}\"");
    }

    public void Write(ExpositionWriter w)
    {
        w.Gauge(MetricNames.BuildInfo, "Always 1; the labels say which build is running.");
        w.GaugeSample(MetricNames.BuildInfo, _buildLabels, 1);

        w.Counter("process_cpu_seconds", "User and system CPU time spent by the process.");
        w.CounterSample("process_cpu_seconds", default, Environment.CpuUsage.TotalTime.TotalSeconds);
        var (virtualBytes, residentBytes) = ReadStatm();
        w.Gauge("process_resident_memory_bytes", "Resident set size.");
        w.GaugeSample("process_resident_memory_bytes", default, residentBytes);
        w.Gauge("process_virtual_memory_bytes", "Virtual memory size.");
        w.GaugeSample("process_virtual_memory_bytes", default, virtualBytes);
        w.Gauge("process_start_time_seconds", "Unix time the process started.");
        w.GaugeSample("process_start_time_seconds", default, StartedAt.ToUnixTimeMilliseconds() / 1000.0);
        if (Runtime.DescriptorLimit.OpenNow() is { } fds)
        {
            w.Gauge("process_open_fds", "Open file descriptors (sockets included).");
            w.GaugeSample("process_open_fds", default, fds);
        }
        if (Runtime.DescriptorLimit.Read() is { } limit)
        {
            // The soft limit, the one that fails an accept or connect with EMFILE (raised to the hard limit at start).
            w.Gauge("process_max_fds", "Maximum number of open file descriptors (the soft limit).");
            w.GaugeSample("process_max_fds", default, limit.Soft);
        }

        w.Counter("dotnet_gc_collections", "Garbage collections, by generation.");
        for (int gen = 0; gen <= GC.MaxGeneration; gen++)
        {
            w.CounterSample("dotnet_gc_collections", default, GC.CollectionCount(gen), Encoding.ASCII.GetBytes($"generation=\"{gen}\""));
        }
        w.Counter("dotnet_gc_pause_seconds", "Time the runtime was paused for garbage collection.");
        w.CounterSample("dotnet_gc_pause_seconds", default, GC.GetTotalPauseDuration().TotalSeconds);
        w.Counter("dotnet_gc_allocated_bytes", "Bytes allocated on the managed heap.");
        w.CounterSample("dotnet_gc_allocated_bytes", default, GC.GetTotalAllocatedBytes());
        var info = GC.GetGCMemoryInfo();
        w.Gauge("dotnet_gc_heap_size_bytes", "Managed heap size after the last collection.");
        w.GaugeSample("dotnet_gc_heap_size_bytes", default, info.HeapSizeBytes);
        w.Gauge("dotnet_gc_committed_bytes", "Memory the GC has committed.");
        w.GaugeSample("dotnet_gc_committed_bytes", default, info.TotalCommittedBytes);

        w.Gauge("dotnet_threadpool_threads", "Thread pool threads.");
        w.GaugeSample("dotnet_threadpool_threads", default, ThreadPool.ThreadCount);
        w.Gauge("dotnet_threadpool_queue_length", "Work items queued to the thread pool and not yet started.");
        w.GaugeSample("dotnet_threadpool_queue_length", default, ThreadPool.PendingWorkItemCount);
        w.Counter("dotnet_threadpool_completed_items", "Work items the thread pool has run.");
        w.CounterSample("dotnet_threadpool_completed_items", default, ThreadPool.CompletedWorkItemCount);
    }

    /// <summary>/proc/self/statm: size and resident, in pages.</summary>
    private static (long Virtual, long Resident) ReadStatm()
    {
        try
        {
            var parts = File.ReadAllText("/proc/self/statm").Split(' ');
            return (long.Parse(parts[0], CultureInfo.InvariantCulture) * PageSize, long.Parse(parts[1], CultureInfo.InvariantCulture) * PageSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (0, 0);
        }
    }
}
