using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Xunit.Abstractions;

namespace Proxy.Functional.Tests;

/// <summary>
/// The real gateway process SIGKILLed under load: restarted on the same spool, it uploads the records of every request
/// answered before the last flush window (the journal's write-through interval), each exactly once.
/// </summary>
public sealed class RequestLogCrashTests(ITestOutputHelper output)
{
    private const string Chat = """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""";
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    // A loaded 2-core machine (load average 12 in these runs) can hold the gateway's worker and the test's own clients
    // (which stamp each answer's arrival) for hundreds of milliseconds, once about a second: an answer stamped this
    // long before the kill has had its flush interval many times over.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Sigkill_UnderLoad_LosesAtMostTheLastFlushWindow_AfterARestartOnTheSameSpool()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-ft-kill-").FullName;
        try
        {
            var logs = Path.Combine(dir, "logs");
            var config = Path.Combine(dir, "gateway.yaml");
            // Cut rules that keep the whole run in one open batch, the worst case (the default, 1,000 records or 5 s,
            // loses up to 5 s of records without the journal): what the kill does not take must come from the replay.
            await File.WriteAllTextAsync(config, TestConfig.Standard("http://127.0.0.1:1") +
                $"\nlogs:\n  directory: {logs}\n  flush_interval: {FlushInterval.TotalMilliseconds}ms\n  max_records: 1000000\n  max_bytes: 256MiB\n  max_age: 10m\n");

            var answered = new ConcurrentBag<(string Id, long At)>();
            TimeSpan killAt;
            await using (var first = await GatewayProcess.StartAsync(config))
            {
                using var client = new HttpClient { BaseAddress = new Uri(first.BaseUrl), Timeout = TimeSpan.FromSeconds(15) };
                using var stop = new CancellationTokenSource();
                var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(() => LoadAsync(client, answered, stop.Token))).ToList();

                // Load for a while (bounded in time and count), so the kill lands in the middle of an open batch.
                var load = Stopwatch.StartNew();
                while (load.Elapsed < TimeSpan.FromSeconds(5) && answered.Count < 30_000) await Task.Delay(50);
                killAt = Ticks(Stopwatch.GetTimestamp()); // Before the signal is sent: every later answer counts as "after".
                await first.KillAsync();
                await stop.CancelAsync();
                await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));
            }

            // Same config: same log directory and spool. The restart replays the journal and uploads the spool.
            await using (var second = await GatewayProcess.StartAsync(config))
            {
                var spool = logs + "-spool";
                var drained = Stopwatch.StartNew();
                while (Pending(spool) > 0 && drained.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
                Assert.Equal(0, Pending(spool));
                using var client = new HttpClient { BaseAddress = new Uri(second.BaseUrl), Timeout = TimeSpan.FromSeconds(15) };
                var metrics = Metrics.Exposition.Parse(await client.GetStringAsync("/metrics"));
                output.WriteLine($"replayed from the journal: {metrics.Value("llm_gateway_log_recovered_records_total", ("result", "recovered"))} records, " +
                    $"{metrics.Value("llm_gateway_log_recovered_records_total", ("result", "lost"))} torn lines");
                // Nothing was cut before the kill, so every record there is comes from the journal.
                Assert.Equal(RecordIds(logs).Count, metrics.Value("llm_gateway_log_recovered_records_total", ("result", "recovered")));
                Assert.Equal(0, await second.TerminateAsync(TimeSpan.FromSeconds(30)));
            }

            var logged = RecordIds(logs);
            Assert.Equal(logged.Count, logged.Distinct().Count()); // Nothing twice: replayed batches keep their names.
            var found = logged.ToHashSet();
            var cutoff = killAt - FlushInterval - Margin;
            var all = answered.Select(a => (a.Id, At: Ticks(a.At))).ToList();
            var required = all.Where(a => a.At < cutoff).ToList();
            var missingRequired = required.Where(a => !found.Contains(a.Id)).Select(a => a.Id).ToList();
            string Bucket(string what, TimeSpan from, TimeSpan to)
            {
                var inBucket = all.Where(a => a.At >= from && a.At < to).ToList();
                return $"{what}: {inBucket.Count} answered, {inBucket.Count(a => !found.Contains(a.Id))} missing";
            }
            output.WriteLine($"answered {all.Count}, records found {found.Count} (they include requests killed before their answer arrived)");
            output.WriteLine(Bucket($"answered before kill - {FlushInterval.TotalMilliseconds} ms - {Margin.TotalSeconds} s (asserted)", TimeSpan.MinValue, cutoff));
            output.WriteLine(Bucket("then up to the last flush window", cutoff, killAt - FlushInterval));
            output.WriteLine(Bucket($"in the last {FlushInterval.TotalMilliseconds} ms before the kill", killAt - FlushInterval, killAt));
            output.WriteLine(Bucket("after the kill was sent (the signal on its way)", killAt, TimeSpan.MaxValue));
            var missing = all.Where(a => !found.Contains(a.Id)).Select(a => (killAt - a.At).TotalMilliseconds).DefaultIfEmpty(double.NaN).Max();
            output.WriteLine($"oldest missing answer: {missing:F0} ms before the kill was sent");
            Assert.True(required.Count > 100, $"only {required.Count} requests were answered before the cutoff: no load to speak of");
            Assert.Empty(missingRequired);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static TimeSpan Ticks(long timestamp) => TimeSpan.FromSeconds((double)timestamp / Stopwatch.Frequency);

    private static async Task LoadAsync(HttpClient client, ConcurrentBag<(string, long)> answered, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Chat, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new("Bearer", TestKeys.All);
                using var response = await client.SendAsync(request, ct);
                await response.Content.ReadAsByteArrayAsync(ct);
                // Answered: the whole body is here. The time is taken after that, so it is never early.
                if (response.IsSuccessStatusCode) answered.Add((response.Headers.GetValues("x-request-id").Single(), Stopwatch.GetTimestamp()));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                // The kill: requests in flight get no answer, and there is nothing to log for them.
                if (!ct.IsCancellationRequested) await Task.Delay(10, CancellationToken.None);
            }
        }
    }

    /// <summary>Batches and journal segments still in the spool.</summary>
    private static int Pending(string spool) =>
        Directory.Exists(spool) ? Directory.EnumerateFiles(spool, "*", SearchOption.AllDirectories).Count(f => f.EndsWith(".jsonl.gz", StringComparison.Ordinal) || f.EndsWith(".journal", StringComparison.Ordinal)) : 0;

    private static List<string> RecordIds(string logs)
    {
        var ids = new List<string>();
        foreach (var file in Directory.EnumerateFiles(logs, "*.jsonl.gz", SearchOption.AllDirectories))
        {
            using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            while (reader.ReadLine() is { Length: > 0 } line)
                ids.Add(JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()!);
        }
        return ids;
    }
}
