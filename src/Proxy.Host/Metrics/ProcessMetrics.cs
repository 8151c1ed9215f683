using System.Globalization;
using Prometheus;
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

    private Prometheus.Counter _cpu = null!, _pause = null!, _allocated = null!, _completed = null!;
    private Prometheus.Counter.Child[] _collections = [];
    private Prometheus.Gauge _resident = null!, _virtual = null!, _openFds = null!, _maxFds = null!, _heap = null!, _committed = null!, _threads = null!, _queue = null!;

    public void Register(IMetricFactory f)
    {
        var version = typeof(ProcessMetrics).Assembly.GetName().Version?.ToString() ?? "unknown";
        f.CreateGauge(MetricNames.BuildInfo, "Always 1; the labels say which build is running.", ["version", "runtime", "aot"])
            .WithLabels(version, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported).ToString().ToLowerInvariant())
            .Set(1);
        _cpu = f.CreateCounter("process_cpu_seconds_total", "User and system CPU time spent by the process.");
        _resident = f.CreateGauge("process_resident_memory_bytes", "Resident set size.");
        _virtual = f.CreateGauge("process_virtual_memory_bytes", "Virtual memory size.");
        f.CreateGauge("process_start_time_seconds", "Unix time the process started.").Set(StartedAt.ToUnixTimeMilliseconds() / 1000.0);
        _openFds = f.CreateGauge("process_open_fds", "Open file descriptors (sockets included).");
        // The soft limit, the one that fails an accept or connect with EMFILE (raised to the hard limit at start).
        _maxFds = f.CreateGauge("process_max_fds", "Maximum number of open file descriptors (the soft limit).");
        var collections = f.CreateCounter("dotnet_gc_collections_total", "Garbage collections, by generation.", ["generation"]);
        _collections = [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(g => collections.WithLabels(g.ToString(CultureInfo.InvariantCulture)))];
        _pause = f.CreateCounter("dotnet_gc_pause_seconds_total", "Time the runtime was paused for garbage collection.");
        _allocated = f.CreateCounter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap.");
        _heap = f.CreateGauge("dotnet_gc_heap_size_bytes", "Managed heap size after the last collection.");
        _committed = f.CreateGauge("dotnet_gc_committed_bytes", "Memory the GC has committed.");
        _threads = f.CreateGauge("dotnet_threadpool_threads", "Thread pool threads.");
        _queue = f.CreateGauge("dotnet_threadpool_queue_length", "Work items queued to the thread pool and not yet started.");
        _completed = f.CreateCounter("dotnet_threadpool_completed_items_total", "Work items the thread pool has run.");
    }

    public void Update()
    {
        _cpu.IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
        var (virtualBytes, residentBytes) = ReadStatm();
        _resident.Set(residentBytes);
        _virtual.Set(virtualBytes);
        if (Runtime.DescriptorLimit.OpenNow() is { } fds) _openFds.Set(fds);
        if (Runtime.DescriptorLimit.Read() is { } limit) _maxFds.Set(limit.Soft);
        for (int gen = 0; gen < _collections.Length; gen++) _collections[gen].IncTo(GC.CollectionCount(gen));
        _pause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        _allocated.IncTo(GC.GetTotalAllocatedBytes());
        var info = GC.GetGCMemoryInfo();
        _heap.Set(info.HeapSizeBytes);
        _committed.Set(info.TotalCommittedBytes);
        _threads.Set(ThreadPool.ThreadCount);
        _queue.Set(ThreadPool.PendingWorkItemCount);
        _completed.IncTo(ThreadPool.CompletedWorkItemCount);
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
