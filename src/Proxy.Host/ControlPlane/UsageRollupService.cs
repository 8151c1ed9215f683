using Microsoft.Extensions.Hosting;
using Proxy.ControlPlane.Usage;

namespace Proxy.Host.ControlPlane;

/// <summary>Writes the usage rollups to Postgres in batches for the app's lifetime (a failed batch waits, none is lost).</summary>
internal sealed class UsageRollupService(UsageRollupWriter writer) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => writer.RunAsync(stoppingToken);
}
