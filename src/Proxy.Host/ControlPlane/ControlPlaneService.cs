using Microsoft.Extensions.Hosting;
using Proxy.ControlPlane;
using Proxy.Host.Config;

namespace Proxy.Host.ControlPlane;

/// <summary>Runs the control plane's sync loop for the app's lifetime; a change reloads through the config watcher.</summary>
internal sealed class ControlPlaneService(ControlPlaneRuntime runtime, ConfigWatcher watcher, ILogger logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = runtime.Settings!;
        var sync = new ControlPlaneSync(runtime.Store!, runtime.Data!, settings.PollInterval, settings.SnapshotFile, watcher.Reload, logger);
        runtime.Sync = sync;
        return sync.RunAsync(stoppingToken);
    }
}
