using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Metrics;
using Proxy.Config;

namespace Proxy.Host.Config;

/// <summary>
/// Reloads the config file when it changes. Watches the directory, not the file, because editors and
/// Kubernetes ConfigMaps replace files by rename/symlink swap; polls as well for filesystems without inotify.
/// An invalid edit keeps the last good snapshot and logs exactly what is wrong.
/// </summary>
internal sealed partial class ConfigWatcher(ConfigHolder holder, ConfigLoader loader, GatewayMetrics metrics, ILogger<ConfigWatcher> logger, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(2);

    private readonly SemaphoreSlim _changed = new(0);

    // The same mistake seen again (a poll, or an unrelated file changing in the directory) is not logged or counted
    // again: a log file kept next to the config would otherwise turn each rejection into the next change event.
    private string? _lastRejection;

    /// <summary>Reloads now; returns whether a new snapshot was swapped in.</summary>
    public bool Reload()
    {
        // The file watcher and the control plane's sync both reload: one at a time, or a reload composed from older
        // data could be swapped in after a newer one.
        lock (_reloadGate) return ReloadOnce();
    }

    private readonly Lock _reloadGate = new();

    private bool ReloadOnce()
    {
        var current = holder.Current;
        GatewayConfig next;
        try
        {
            next = loader.Load(current.SourcePath, current);
        }
        catch (IOException e) when (Proxy.Pipeline.ResourceExhaustion.IsOutOfDescriptors(e))
        {
            // The process is out of descriptors, the file may be fine: not a rejected config (no alert for a good file);
            // the next change or poll reads it again. Logged once per shortage, like a repeated rejection.
            if (e.Message == _lastRejection) return false;
            _lastRejection = e.Message;
            LogUnreadable(logger, e.Message);
            return false;
        }
        catch (ConfigException e)
        {
            if (e.Message == _lastRejection) return false;
            _lastRejection = e.Message;
            metrics.ConfigReloadFailures.Increment();
            LogRejected(logger, e.Message);
            return false;
        }
        _lastRejection = null;
        if (ReferenceEquals(next, current)) return false;
        holder.Swap(next);
        metrics.ConfigReloads.Increment();
        LogReloaded(logger, next.SourcePath, next.Routes.Count, next.Keys.Count);
        Retire(current, next);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var path = Path.GetFullPath(holder.Current.SourcePath);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        FileSystemEventHandler signal = (_, _) => _changed.Release();
        watcher.Changed += signal;
        watcher.Created += signal;
        watcher.Renamed += (_, _) => _changed.Release();
        watcher.EnableRaisingEvents = true;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _changed.WaitAsync(PollInterval, stoppingToken);
                // Editors write in several steps: wait for the burst to settle, then read once.
                await Task.Delay(Debounce, time, stoppingToken);
                while (_changed.CurrentCount > 0) await _changed.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Reload();
        }
    }

    /// <summary>Disposes adapters the new snapshot no longer uses, after in-flight requests have had time to finish.</summary>
    private void Retire(GatewayConfig old, GatewayConfig next)
    {
        var kept = next.Providers.Values.Select(p => p.Adapter).ToHashSet();
        var retired = old.Providers.Values.Select(p => p.Adapter).Where(a => !kept.Contains(a)).Distinct().ToList();
        if (retired.Count == 0) return;
        _ = Task.Delay(RetireAfter, time).ContinueWith(_ => retired.ForEach(a => a.Dispose()), TaskScheduler.Default);
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    [LoggerMessage(10, LogLevel.Information, "Config reloaded from {Path}: {Routes} routes, {Keys} keys")]
    private static partial void LogReloaded(ILogger logger, string path, int routes, int keys);

    [LoggerMessage(11, LogLevel.Error, "Config change rejected, the last good config stays in force: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(12, LogLevel.Warning, "Config file not read, the gateway is out of file descriptors ({Error}); the config in force stays, and it is read again at the next change or poll")]
    private static partial void LogUnreadable(ILogger logger, string error);
}
