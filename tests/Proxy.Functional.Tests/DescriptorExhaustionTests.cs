using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Xunit.Abstractions;

namespace Proxy.Functional.Tests;

/// <summary>
/// The real executable actually out of file descriptors (the cap turned off, its table filled with idle client
/// connections): an upstream connect that fails with EMFILE is answered 503 gateway_resources, counted as the
/// gateway's exhaustion and not the upstream's error, leaves the target's breaker closed, and logs a line per interval;
/// an accept that fails backs off and is counted; when descriptors free up, everything works again.
/// </summary>
[Collection(nameof(Heavy))]
public sealed class DescriptorExhaustionTests(ITestOutputHelper output)
{
    private const int OpenFiles = 512;
    /// <summary>Few: the JIT-compiled test build was seen to exit ("Out of memory.") after ~30 s with its table full.</summary>
    private const int Requests = 40;

    private const string Route = """
          fd-route:
            targets: [{ provider: up, model: upstream-model }]
            circuit_breaker: { consecutive_failures: 1 }
        """;

    [Fact]
    public async Task OutOfDescriptors_Connect503GatewayResources_AcceptBacksOff_BreakerNotCharged_LogBounded()
    {
        // The JIT-compiled runtime of the test build (the shipped binary is Native AOT) sometimes exits with its own
        // "Out of memory." once its descriptor table is full (about 1 full run in 4 on 2 cores; cause not found: not
        // tier-up, not W^X). That is the runtime giving up, not the gateway's handling under test, so the scenario gets
        // one more try then, and only then; any other failure fails at once.
        try
        {
            await ScenarioAsync();
        }
        catch (RuntimeGaveUpException e)
        {
            output.WriteLine($"first try: the JIT runtime exited ({e.Message}); trying the scenario once more");
            await ScenarioAsync();
        }
    }

    private sealed class RuntimeGaveUpException(string message) : Exception(message);

    private async Task ScenarioAsync()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-emfile-").FullName;
        await using var upstream = await FakeUpstream.StartAsync();
        // Connection: close, so the gateway keeps no idle upstream connection: every request must open a new one.
        upstream.Handler = ctx =>
        {
            ctx.Response.Headers.Connection = "close";
            return Upstream.Json(ctx, 200, Upstream.Completion);
        };
        var fillers = new List<Socket>();
        Func<string> crashed = () => "";
        try
        {
            var config = Path.Combine(dir, "gateway.yaml");
            var yaml = TestConfig.Standard(upstream.BaseUrl, Route)
                .Replace("server:\n", "server:\n  max_concurrent_requests: unlimited\n", StringComparison.Ordinal) + "\nlogs:\n  enabled: false\n";
            await File.WriteAllTextAsync(config, yaml);
            var gateway = await GatewayProcess.StartAsync(config, openFiles: OpenFiles);
            await using var stop = gateway;
            crashed = () => string.Join('\n', gateway.Output.TakeLast(40));
            var port = new Uri(gateway.BaseUrl).Port;
            using (var warm = NewClient(gateway.BaseUrl))
            {
                // Every code path the failure takes later is loaded now, while descriptors are free.
                using var ok = await warm.PostAsync("/v1/chat/completions", Chat());
                Assert.Equal(200, (int)ok.StatusCode);
            }

            // Fill the table with idle client connections until the listener says it cannot accept one: then the table is
            // full and a connection waits in the backlog. Each round opens as many as there look to be free descriptors.
            int linesBefore = gateway.Output.Count;
            bool AcceptFailed() => gateway.Output.Any(l => l.Contains("Accepting connections on", StringComparison.Ordinal));
            for (int round = 0; round < 50 && !AcceptFailed(); round++)
            {
                int room = Math.Max(1, OpenFiles - OpenCount(gateway.Pid));
                for (int i = 0; i < room; i++)
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await s.ConnectAsync(IPAddress.Loopback, port);
                    fillers.Add(s);
                }
                await Until(AcceptFailed, TimeSpan.FromSeconds(2));
            }
            output.WriteLine($"limit {OpenFiles}: {OpenCount(gateway.Pid)} open after {fillers.Count} idle connections");
            Assert.True(AcceptFailed(), "the listener never ran out of descriptors");

            // Requests over the first (accepted) connection: each upstream connect fails with EMFILE.
            int next = 0;
            using (var full = NewClient(gateway.BaseUrl, () => fillers[next++]))
            {
                for (int i = 0; i < Requests; i++)
                {
                    using var response = await full.PostAsync("/v1/chat/completions", Chat());
                    var body = await Http.ReadBodyAsync(response);
                    Assert.True(503 == (int)response.StatusCode, body);
                    Assert.Equal("1", Http.Header(response, "Retry-After"));
                    Assert.Equal("gateway_resources_exhausted", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
                    Assert.DoesNotContain("unreachable", body, StringComparison.OrdinalIgnoreCase);
                }
            }

            var lines = gateway.Output.Skip(linesBefore).ToList();

            foreach (var s in fillers) s.Dispose();
            fillers.Clear();
            using var after = NewClient(gateway.BaseUrl);
            using (var ok = await after.PostAsync("/v1/chat/completions", Chat()))
            {
                Assert.Equal(200, (int)ok.StatusCode); // the breaker (one failure opens it) was never charged
            }
            var scrape = await after.GetStringAsync("/metrics");
            output.WriteLine($"{Requests} requests answered 503 gateway_resources; {lines.Count} log lines while out of descriptors:");
            foreach (var line in lines) output.WriteLine("  " + line);
            foreach (var line in scrape.Split('\n').Where(l => l.StartsWith("llm_gateway_resource_exhaustion", StringComparison.Ordinal)))
                output.WriteLine("  " + line);

            Assert.Contains($"llm_gateway_resource_exhaustion_total{{operation=\"upstream_connect\"}} {Requests}", scrape, StringComparison.Ordinal);
            Assert.Matches("llm_gateway_resource_exhaustion_total\\{operation=\"accept\"\\} [1-9]", scrape);
            Assert.DoesNotMatch("llm_gateway_upstream_errors_total\\{[^}]*\\} [1-9]", scrape);
            Assert.Contains("llm_gateway_circuit_breaker_state{route=\"fd-route\",provider=\"up\",model=\"upstream-model\"} 0", scrape, StringComparison.Ordinal);
            Assert.Contains("llm_gateway_config_reloads_total{result=\"rejected\"} 0", scrape, StringComparison.Ordinal);
            // A line per kind per 10 s (connect, accept, perhaps the config poll), not one per failure.
            Assert.InRange(lines.Count(l => l.Contains("out of file descriptors", StringComparison.Ordinal)), 2, 8);
            Assert.InRange(lines.Count, 2, 12);
            Assert.Equal(0, await gateway.TerminateAsync(TimeSpan.FromSeconds(30)));
        }
        catch
        {
            var lines = crashed();
            output.WriteLine("the gateway's last lines:\n" + lines);
            if (lines.Contains("Out of memory.", StringComparison.Ordinal)) throw new RuntimeGaveUpException("Out of memory.");
            throw;
        }
        finally
        {
            foreach (var s in fillers) s.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static StringContent Chat() =>
        new("""{"model":"fd-route","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json");

    /// <summary>A client with the test key; with <paramref name="connection"/>, it talks over sockets the test opened (one at a time).</summary>
    private static HttpClient NewClient(string baseUrl, Func<Socket>? connection = null)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 1 };
        if (connection is not null) handler.ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(new NetworkStream(connection(), ownsSocket: false));
        var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.All);
        return client;
    }

    private static int OpenCount(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    private static async Task<bool> Until(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(10);
        }
        return true;
    }
}
