using System.Text.Json;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// Several real gateway processes (the executable, as replicas run it), each with its config written from
/// <c>config(logDirectory)</c> and an HTTP client that sends the <see cref="TestKeys.All"/> key: for the tests of
/// limits and budgets shared through Redis.
/// </summary>
internal sealed class Replicas : IAsyncDisposable
{
    public required string Dir { get; init; }
    public required List<GatewayProcess> Gateways { get; init; }
    public required List<HttpClient> Clients { get; init; }

    public static async Task<Replicas> StartAsync(int count, Func<string, string> config, string extra = "")
    {
        var dir = Directory.CreateTempSubdirectory("proxy-shared-").FullName;
        var gateways = new List<GatewayProcess>();
        var clients = new List<HttpClient>();
        for (int i = 0; i < count; i++)
        {
            var path = Path.Combine(dir, $"gateway-{i}.yaml");
            await File.WriteAllTextAsync(path, config(Path.Combine(dir, $"logs-{i}")));
            var g = await GatewayProcess.StartAsync(path);
            gateways.Add(g);
            var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(g.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.All);
            clients.Add(client);
        }
        return new Replicas { Dir = dir, Gateways = gateways, Clients = clients };
    }

    /// <summary>Stops every replica with SIGTERM (the request log drains) and returns every record.</summary>
    public async Task<List<JsonElement>> StopAndReadLogsAsync()
    {
        foreach (var g in Gateways.Where(g => !g.HasExited)) Assert.Equal(0, await g.TerminateAsync(TimeSpan.FromSeconds(30)));
        return [.. Enumerable.Range(0, Gateways.Count).SelectMany(i => RequestLogTests.ReadRecords(Path.Combine(Dir, $"logs-{i}")))];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Clients) c.Dispose();
        foreach (var g in Gateways) await g.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
