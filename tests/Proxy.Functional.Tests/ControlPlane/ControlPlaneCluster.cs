using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Keys;
using Proxy.Tests.Common;

namespace Proxy.Functional.Tests.ControlPlane;

/// <summary>
/// Gateway processes sharing one real Postgres database as their control plane, each with its own config file and
/// snapshot file (as replicas on different nodes), and an admin client for each.
/// </summary>
internal sealed class ControlPlaneCluster : IAsyncDisposable
{
    public const string AdminKey = "sk-gw-test-admin-key-0123456789abcdef";
    public const string ProviderSecret = "sk-upstream-very-secret-4242";

    private readonly List<GatewayProcess> _gateways = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-cp-").FullName;

    public required string ConnectionString { get; init; }
    public string MasterKey { get; init; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    public IReadOnlyList<GatewayProcess> Gateways => _gateways;
    public List<HttpClient> Admin { get; } = [];
    public List<HttpClient> Clients { get; } = [];

    /// <summary>Everything the gateways printed, for the secret scan.</summary>
    public string AllOutput => string.Join('\n', _gateways.SelectMany(g => g.Output));

    public string SnapshotFile(int replica) => Path.Combine(_dir, $"replica{replica}", "gw.yaml.control-plane-snapshot.json");

    public static async Task<ControlPlaneCluster> StartAsync(PostgresServer server, int replicas, string? masterKey = null, string controlPlaneExtra = "")
    {
        var connection = await server.CreateDatabaseAsync();
        var cluster = masterKey is null
            ? new ControlPlaneCluster { ConnectionString = connection, ControlPlaneExtra = controlPlaneExtra }
            : new ControlPlaneCluster { ConnectionString = connection, MasterKey = masterKey, ControlPlaneExtra = controlPlaneExtra };
        for (int i = 0; i < replicas; i++) await cluster.StartReplicaAsync(i);
        return cluster;
    }

    /// <summary>Extra lines under control_plane: in every replica's config (e.g. admin_listen).</summary>
    public string ControlPlaneExtra { get; init; } = "";

    public async Task<GatewayProcess> StartReplicaAsync(int i)
    {
        var dir = Path.Combine(_dir, $"replica{i}");
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "gw.yaml");
        await File.WriteAllTextAsync(config, $"""
            control_plane:
              url: "{ConnectionString}"
              master_key: ${"{"}CP_MASTER_KEY{"}"}
              poll_interval: 2s
              {ControlPlaneExtra}
              admin_keys:
                - {"{"} id: root, hash: "{KeyHash.Of(AdminKey)}" {"}"}
            logs:
              directory: {Path.Combine(dir, "logs")}
            """);
        var gateway = await GatewayProcess.StartAsync(config, environment: new Dictionary<string, string> { ["CP_MASTER_KEY"] = MasterKey });
        if (i < _gateways.Count)
        {
            _gateways[i] = gateway;
            Admin[i] = AdminClient(gateway.BaseUrl);
            Clients[i] = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl) };
        }
        else
        {
            _gateways.Add(gateway);
            Admin.Add(AdminClient(gateway.BaseUrl));
            Clients.Add(new HttpClient { BaseAddress = new Uri(gateway.BaseUrl) });
        }
        return gateway;
    }

    private static HttpClient AdminClient(string baseUrl)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>Runs <c>proxy ARGS --config</c> with replica <paramref name="i"/>'s config file, as an operator would.</summary>
    public async Task<(int Code, string Output, string Error)> CliAsync(int i, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "proxy"), [.. args, "--config", Path.Combine(_dir, $"replica{i}", "gw.yaml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["CP_MASTER_KEY"] = MasterKey;
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(int Status, JsonNode? Body, string Text)> SendAsync(HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return ((int)response.StatusCode, body, text);
    }

    /// <summary>A chat request with <paramref name="key"/> to replica <paramref name="i"/>: status and the x-gateway-target header.</summary>
    public async Task<(int Status, string? Target)> ChatAsync(int i, string key, string model = "chat")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Clients[i].SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return ((int)response.StatusCode, response.Headers.TryGetValues("x-gateway-target", out var v) ? v.First() : null);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var g in _gateways) await g.DisposeAsync();
        foreach (var c in Admin.Concat(Clients)) c.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
