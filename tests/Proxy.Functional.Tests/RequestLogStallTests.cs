using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;
using Proxy.Logging.S3.Tests;
using Xunit.Abstractions;

namespace Proxy.Functional.Tests;

/// <summary>
/// A blob store that stops answering (a real s3rver, SIGSTOPped): readiness and /metrics say "stalled" once the upload
/// has exceeded logs.upload_timeout, the replica stays ready, and after SIGCONT the backlog drains with nothing lost.
/// </summary>
public sealed class RequestLogStallTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UploadTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task FrozenStore_IsReportedStalledAfterTheUploadTimeout_AndDrainsWithoutLossOnceItAnswers()
    {
        var s3 = S3rver.Start();
        var logs = Directory.CreateTempSubdirectory("proxy-ft-frozen-").FullName;
        var frozen = false;
        try
        {
            await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url) + $$"""

                logs:
                  sink: s3
                  directory: {{logs}}
                  max_records: 5
                  max_age: 200ms
                  upload_timeout: {{UploadTimeout.TotalSeconds}}s
                  s3:
                    bucket: {{S3rver.Bucket}}
                    region: us-east-1
                    endpoint: {{s3.ServiceUrl}}
                    path_style: true
                    compatibility: true
                    access_key_id: {{S3rver.Key}}
                    secret_access_key: {{S3rver.Key}}
                """);
            var sent = new List<string>();
            await Send(env, sent, 10);
            await WaitFor(async () => (await ReadyLog(env)).GetProperty("batches_uploaded").GetInt64() >= 2, "the first uploads");
            var healthy = await ReadyLog(env);
            Assert.Equal("ok", healthy.GetProperty("status").GetString());
            Assert.Equal(UploadTimeout.TotalSeconds, healthy.GetProperty("upload_timeout_seconds").GetDouble());

            s3.Freeze();
            frozen = true;
            var sinceFreeze = Stopwatch.StartNew();
            await Send(env, sent, 20); // Answered at once: the log never holds a request up.

            // The first batch cut after the freeze waits in its upload; once that exceeds the timeout, both say so.
            await WaitFor(async () => (await ReadyLog(env)).GetProperty("status").GetString() == "stalled", "readiness to say stalled");
            output.WriteLine($"readiness said stalled {sinceFreeze.Elapsed.TotalSeconds:F2} s after the freeze (upload timeout {UploadTimeout.TotalSeconds} s)");
            using (var ready = await env.Gateway.GetAsync("/v1/ready", key: null))
            {
                Assert.Equal(200, (int)ready.StatusCode); // Still ready: a logging outage must not become a full one.
                var log = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("request_log");
                Assert.True(log.GetProperty("stalled_seconds").GetDouble() > UploadTimeout.TotalSeconds, log.ToString());
                Assert.True(log.GetProperty("oldest_pending_seconds").GetDouble() > UploadTimeout.TotalSeconds, log.ToString());
            }

            var scrape = Exposition.Parse(await env.Gateway.Client.GetStringAsync("/metrics"));
            Assert.True(scrape.Value("llm_gateway_log_upload_stalled_seconds", ("sink", "s3")) > UploadTimeout.TotalSeconds, "stalled gauge");
            Assert.True(scrape.Value("llm_gateway_log_oldest_pending_seconds", ("sink", "s3")) > UploadTimeout.TotalSeconds, "oldest pending gauge");
            Assert.True(scrape.Value("llm_gateway_log_upload_failures_total", ("sink", "s3")) >= 1, "the timed-out attempt is counted");

            s3.Thaw();
            frozen = false;
            using var client = s3.Client();
            List<string> ids = [];
            await WaitFor(async () => (ids = await PollRequestIds(client)).Count >= sent.Count, "the backlog to drain", TimeSpan.FromSeconds(90));
            Assert.Equal(sent.Order(), ids.Order()); // None lost, none twice.
            await WaitFor(async () => (await ReadyLog(env)).GetProperty("status").GetString() == "ok", "readiness to say ok again");
            var after = Exposition.Parse(await env.Gateway.Client.GetStringAsync("/metrics"));
            Assert.Equal(0, after.Value("llm_gateway_log_upload_stalled_seconds", ("sink", "s3")));
        }
        finally
        {
            if (frozen) s3.Thaw();
            s3.Dispose();
            Directory.Delete(logs, recursive: true);
            if (Directory.Exists(logs + "-spool")) Directory.Delete(logs + "-spool", recursive: true);
        }
    }

    private static async Task<JsonElement> ReadyLog(TestEnv env)
    {
        using var ready = await env.Gateway.GetAsync("/v1/ready", key: null);
        return JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("request_log").Clone();
    }

    /// <summary>Polls until true; the bound is generous (a loaded 2-core machine), the expected time is seconds.</summary>
    private static async Task WaitFor(Func<Task<bool>> condition, string what, TimeSpan? bound = null)
    {
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(sw.Elapsed < (bound ?? TimeSpan.FromSeconds(30)), "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    private static async Task Send(TestEnv env, List<string> sent, int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""");
            await response.Content.ReadAsStringAsync();
            Assert.Equal(200, (int)response.StatusCode);
            sent.Add(response.Headers.GetValues("x-request-id").Single());
        }
    }

    /// <summary>A read can meet an object s3rver is still writing; that poll counts as "not there yet".</summary>
    private static async Task<List<string>> PollRequestIds(Amazon.S3.AmazonS3Client client)
    {
        try
        {
            var ids = new List<string>();
            var list = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket, Prefix = "requests/" });
            foreach (var key in (list.S3Objects ?? []).Select(o => o.Key))
            {
                using var obj = await client.GetObjectAsync(S3rver.Bucket, key);
                using var gz = new GZipStream(obj.ResponseStream, CompressionMode.Decompress);
                using var reader = new StreamReader(gz, Encoding.UTF8);
                while (await reader.ReadLineAsync() is { Length: > 0 } line)
                    ids.Add(JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()!);
            }
            return ids;
        }
        catch (Exception e) when (e is Amazon.S3.AmazonS3Exception or ArgumentOutOfRangeException or IOException or InvalidDataException or HttpRequestException)
        {
            return [];
        }
    }
}
