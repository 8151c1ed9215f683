using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>The gateway as its own process starts, answers, and stops on SIGTERM with exit code 0.</summary>
public sealed class GatewayProcessTests
{
    [Fact]
    public async Task Real_process_serves_and_stops_cleanly_on_sigterm()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-gp-").FullName;
        try
        {
            var config = Path.Combine(dir, "gateway.yaml");
            await File.WriteAllTextAsync(config, TestConfig.Standard("http://127.0.0.1:1") + $"\nlogs:\n  directory: {Path.Combine(dir, "logs")}\n");
            await using var gateway = await GatewayProcess.StartAsync(config);
            using var client = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl), Timeout = TimeSpan.FromSeconds(15) };
            using var health = await client.GetAsync("/v1/health");
            Assert.Equal(200, (int)health.StatusCode);
            Assert.Equal(0, await gateway.TerminateAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains(gateway.Output, l => l.Contains("Request log drained", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
