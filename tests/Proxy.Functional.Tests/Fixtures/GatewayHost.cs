using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Proxy.Host;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// The real gateway (<see cref="GatewayApp.Build"/>) in process on 127.0.0.1:0, with its config in a temp
/// directory of its own (the config watcher watches that directory), and an HttpClient bounded in time.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly string _dir;

    private GatewayHost(WebApplication app, string dir, string configPath, string baseUrl)
    {
        App = app;
        _dir = dir;
        ConfigPath = configPath;
        BaseUrl = baseUrl;
        // No drain on dispose: a test that drops a stream must drop the connection at once.
        Client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(15),
        };
    }

    public WebApplication App { get; }

    public string ConfigPath { get; }

    /// <summary>Where the request log's objects land, unless the test's config says otherwise.</summary>
    public string LogDirectory => Path.Combine(_dir, "logs");

    /// <summary>e.g. http://127.0.0.1:PORT (no trailing slash, no /v1).</summary>
    public string BaseUrl { get; }

    public HttpClient Client { get; }

    public static async Task<GatewayHost> StartAsync(string yaml)
    {
        Environment.SetEnvironmentVariable(TestKeys.UpstreamSecretEnvVar, TestKeys.UpstreamSecret);
        var dir = Directory.CreateTempSubdirectory("proxy-ft-").FullName;
        var path = Path.Combine(dir, "gateway.yaml");
        // Each gateway logs into its own folder (the default, ./logs, would be the test runner's directory).
        if (!yaml.Contains("\nlogs:", StringComparison.Ordinal)) yaml += $"\nlogs:\n  directory: {Path.Combine(dir, "logs")}\n";
        await File.WriteAllTextAsync(path, yaml);
        var app = GatewayApp.Build(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--hostBuilder:reloadConfigOnChange=false"], path);
        await app.StartAsync();
        return new GatewayHost(app, dir, path, app.Urls.First().TrimEnd('/'));
    }

    /// <summary>Replaces the config file in one rename, as editors and ConfigMaps do, or rewrites it in place.</summary>
    public async Task WriteConfigAsync(string yaml, bool atomic = true)
    {
        if (!atomic)
        {
            await File.WriteAllTextAsync(ConfigPath, yaml);
            return;
        }
        var temp = Path.Combine(_dir, $".gateway.{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(temp, yaml);
        File.Move(temp, ConfigPath, overwrite: true);
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? body = null, string? key = TestKeys.All, string? requestId = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (requestId is not null) request.Headers.Add("x-request-id", requestId);
        return request;
    }

    public Task<HttpResponseMessage> PostAsync(string path, string body, string? key = TestKeys.All, string? requestId = null) =>
        Client.SendAsync(Request(HttpMethod.Post, path, body, key, requestId));

    /// <summary>Returns as soon as the headers are in, for reading a stream as it arrives.</summary>
    public Task<HttpResponseMessage> PostStreamingAsync(string path, string body, string? key = TestKeys.All) =>
        Client.SendAsync(Request(HttpMethod.Post, path, body, key), HttpCompletionOption.ResponseHeadersRead);

    public Task<HttpResponseMessage> GetAsync(string path, string? key = TestKeys.All, string? requestId = null) =>
        Client.SendAsync(Request(HttpMethod.Get, path, null, key, requestId));

    /// <summary>Stops the gateway as SIGTERM would (the request log drains), keeping its folder for the test to read.</summary>
    public async Task StopAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        // The gateway waits up to 30 s for in-flight requests; tests never wait that long.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A fake upstream and a gateway configured with <see cref="TestConfig.Standard"/> pointing at it.</summary>
public sealed class TestEnv : IAsyncDisposable
{
    private TestEnv(FakeUpstream upstream, GatewayHost gateway)
    {
        Upstream = upstream;
        Gateway = gateway;
    }

    public FakeUpstream Upstream { get; }

    public GatewayHost Gateway { get; }

    public static async Task<TestEnv> StartAsync(Func<string, string>? config = null)
    {
        var upstream = await FakeUpstream.StartAsync();
        try
        {
            var yaml = config is null ? TestConfig.Standard(upstream.BaseUrl) : config(upstream.BaseUrl);
            return new TestEnv(upstream, await GatewayHost.StartAsync(yaml));
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
