using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Proxy.Functional.Tests.Fixtures;
using Xunit.Abstractions;

namespace Proxy.Functional.Tests;

/// <summary>
/// The real executable under a low open-file limit, sent more concurrent streams than that limit can hold: the
/// automatic cap refuses the surplus with 503 gateway_overloaded and Retry-After instead of running out of
/// descriptors, every admitted stream completes, and the log stays a few lines long.
/// </summary>
[Collection(nameof(Heavy))]
public sealed partial class DescriptorLimitTests(ITestOutputHelper output)
{
    /// <summary>Low enough to reach on loopback in seconds; the JIT-compiled test build keeps ~200 descriptors open itself.</summary>
    private const int OpenFiles = 1024;

    /// <summary>Streams beyond the cap: fewer than the cap's headroom (an eighth of the limit), as a burst of refused connections needs one each.</summary>
    private const int Surplus = 60;

    [Fact]
    public async Task LowDescriptorLimit_SurplusStreamsRefused503_AdmittedStreamsComplete_LogBounded()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-fd-").FullName;
        await using var upstream = await FakeUpstream.StartAsync();
        var held = new HeldStreams();
        upstream.Handler = held.HandleAsync;
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue })
        {
            Timeout = TimeSpan.FromSeconds(90),
        };
        try
        {
            var config = Path.Combine(dir, "gateway.yaml");
            await File.WriteAllTextAsync(config, TestConfig.Standard(upstream.BaseUrl) + $"\nlogs:\n  directory: {Path.Combine(dir, "logs")}\n");
            await using var gateway = await GatewayProcess.StartAsync(config, openFiles: OpenFiles);
            client.BaseAddress = new Uri(gateway.BaseUrl);

            int cap = await ReadCapAsync(client);
            Assert.InRange(cap, 100, OpenFiles / 2);
            int attempted = cap + Surplus;
            int linesBefore = gateway.Output.Count;

            var sends = Enumerable.Range(0, attempted).Select(_ => SendStreamAsync(client)).ToArray();
            // Admitted streams answer 200 at their first event and then wait for the release; refused ones answer at once.
            await HeldStreams.WaitUntil(() => sends.All(s => s.IsCompleted), "every request answered or streaming", seconds: 90);
            var responses = sends.Select(s => s.Result).ToList();
            var admitted = responses.Where(r => r.StatusCode == System.Net.HttpStatusCode.OK).ToList();
            var refused = responses.Where(r => (int)r.StatusCode == 503).ToList();

            // While every admitted stream is open: the probes and the scrape still answer.
            using (var health = await client.GetAsync("/v1/health")) Assert.Equal(200, (int)health.StatusCode);
            using (var ready = await client.GetAsync("/v1/ready")) Assert.Equal(200, (int)ready.StatusCode);
            var scrape = await client.GetStringAsync("/metrics");
            int openWhileHeld = Directory.GetFileSystemEntries($"/proc/{gateway.Pid}/fd").Length;

            held.Release();
            int completed = 0;
            foreach (var response in admitted)
            {
                using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
                var events = await reader.ReadAllAsync(TimeSpan.FromSeconds(60));
                if (events.Count > 0 && events[^1] == "[DONE]") completed++;
                response.Dispose();
            }
            var refusedBodies = new List<string>();
            foreach (var response in refused)
            {
                refusedBodies.Add(await Http.ReadBodyAsync(response));
                Assert.Equal("1", Http.Header(response, "Retry-After"));
                Assert.False(string.IsNullOrEmpty(Http.Header(response, "x-request-id")));
            }
            var lines = gateway.Output.Skip(linesBefore).ToList();
            output.WriteLine($"open-file limit {OpenFiles}, cap {cap}: {attempted} streams attempted, {admitted.Count} admitted, {completed} completed, " +
                $"{refused.Count} refused; {openWhileHeld} descriptors open while the admitted streams were held; {lines.Count} log lines during the burst:");
            foreach (var line in lines) output.WriteLine("  " + line);

            Assert.Equal(attempted, admitted.Count + refused.Count);
            Assert.Equal(cap, admitted.Count);
            Assert.Equal(Surplus, refused.Count);
            Assert.Equal(admitted.Count, completed);
            Assert.All(refusedBodies, b =>
                Assert.Equal("gateway_overloaded", JsonDocument.Parse(b).RootElement.GetProperty("error").GetProperty("code").GetString()));
            Assert.Equal(cap, held.Started);
            Assert.Contains($"llm_gateway_requests_rejected_total{{reason=\"overloaded\"}} {Surplus}", scrape, StringComparison.Ordinal);
            Assert.Contains("llm_gateway_resource_exhaustion_total{operation=\"upstream_connect\"} 0", scrape, StringComparison.Ordinal);
            Assert.Contains("llm_gateway_resource_exhaustion_total{operation=\"accept\"} 0", scrape, StringComparison.Ordinal);
            // One refusal line per 10 s, not one per refusal; nothing about descriptors running out.
            Assert.InRange(lines.Count, 1, 10);
            Assert.DoesNotContain(lines, l => l.Contains("Too many open files", StringComparison.Ordinal));
            Assert.Contains(gateway.Output, l => l.Contains($"at most {cap} concurrent requests", StringComparison.Ordinal));

            Assert.Equal(0, await gateway.TerminateAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            held.Release();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<HttpResponseMessage> SendStreamAsync(HttpClient client)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Streams.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.All);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>The cap in force, from the scrape (the gateway measures it once it listens).</summary>
    private static async Task<int> ReadCapAsync(HttpClient client)
    {
        for (int attempt = 0; ; attempt++)
        {
            var m = CapLine().Match(await client.GetStringAsync("/metrics"));
            if (m.Success && int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) is > 0 and var cap) return cap;
            Assert.True(attempt < 100, "the scrape has no llm_gateway_max_concurrent_requests");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"(?m)^llm_gateway_max_concurrent_requests (\d+)")]
    private static partial Regex CapLine();
}
