using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Logging.S3.Tests;

namespace Proxy.Functional.Tests;

/// <summary>The request log shipped to a real S3 server (s3rver): every request lands there exactly once.</summary>
public sealed class RequestLogS3Tests : IClassFixture<S3rverFixture>
{
    private readonly S3rver _s3;

    public RequestLogS3Tests(S3rverFixture fixture) => _s3 = fixture.Server;

    [Fact]
    public async Task NRequests_LeaveExactlyNRecordsInTheBucket()
    {
        var prefixRun = Guid.NewGuid().ToString("N");
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url) + $$"""

            logs:
              sink: s3
              directory: {{Path.Combine(Path.GetTempPath(), "proxy-ft-s3-" + prefixRun)}}
              max_records: 7
              s3:
                bucket: {{S3rver.Bucket}}
                region: us-east-1
                endpoint: {{_s3.ServiceUrl}}
                path_style: true
                compatibility: true
                access_key_id: {{S3rver.Key}}
                secret_access_key: {{S3rver.Key}}
            """);
        using var client = _s3.Client();
        var before = await Keys(client);

        var sent = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            var body = i % 3 == 0 ? """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}""" : """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""";
            using var response = await env.Gateway.PostAsync("/v1/chat/completions", body);
            await response.Content.ReadAsStringAsync();
            sent.Add(response.Headers.GetValues("x-request-id").Single());
        }
        await env.Gateway.StopAsync();

        var ids = new List<string>();
        foreach (var key in (await Keys(client)).Except(before))
        {
            Assert.Matches(@"^requests/\d{4}/\d{2}/\d{2}/\d{2}/.+-\d{8}\.jsonl\.gz$", key);
            using var obj = await client.GetObjectAsync(S3rver.Bucket, key);
            using var gz = new GZipStream(obj.ResponseStream, CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            while (await reader.ReadLineAsync() is { Length: > 0 } line)
                ids.Add(JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()!);
        }
        Assert.Equal(sent.Order(), ids.Order());
    }

    [Fact]
    public async Task SinkOutageMidLoad_LosesNothing_OnceTheServerIsBack()
    {
        var s3 = S3rver.Start();
        var logs = Directory.CreateTempSubdirectory("proxy-ft-outage-").FullName;
        try
        {
            await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url) + S3Logs(s3, logs));
            var sent = new List<string>();
            await Send(env, sent, 20);
            s3.Kill();
            await Send(env, sent, 20);      // accepted while the store is down: spooled, not lost
            s3 = s3.Restart();
            await Send(env, sent, 20);

            // The batcher retries the spool with backoff; wait (bounded) for everything to arrive.
            using var client = s3.Client();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            List<string> ids;
            while ((ids = await PollRequestIds(client)).Count < sent.Count && DateTime.UtcNow < deadline) await Task.Delay(500);
            // This server belongs to this test: exactly the requests sent, none lost and none twice.
            Assert.Equal(sent.Order(), ids.Order());
        }
        finally
        {
            s3.Dispose();
            Directory.Delete(logs, recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_WithTheStoreDown_KeepsEveryRecordInTheSpool_AndTheNextStartUploadsIt()
    {
        var s3 = S3rver.Start();
        var logs = Directory.CreateTempSubdirectory("proxy-ft-sigterm-").FullName;
        try
        {
            s3.Kill();
            var sent = new List<string>();
            await using (var first = await TestEnv.StartAsync(url => TestConfig.Standard(url) + S3Logs(s3, logs)))
            {
                await Send(first, sent, 30);
                await first.Gateway.StopAsync(); // as SIGTERM: drain; the store is down, so into the spool
            }
            var spooled = Directory.GetFiles(logs + "-spool", "*.jsonl.gz", SearchOption.AllDirectories);
            Assert.NotEmpty(spooled);
            Assert.Equal(sent.Order(), spooled.SelectMany(Lines).Select(Id).Order());

            s3 = s3.Restart();
            await using var second = await TestEnv.StartAsync(url => TestConfig.Standard(url) + S3Logs(s3, logs));
            using var client = s3.Client();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            List<string> ids;
            while ((ids = await PollRequestIds(client)).Count < sent.Count && DateTime.UtcNow < deadline) await Task.Delay(300);
            Assert.Equal(sent.Order(), ids.Order());
        }
        finally
        {
            s3.Dispose();
            Directory.Delete(logs, recursive: true);
            if (Directory.Exists(logs + "-spool")) Directory.Delete(logs + "-spool", recursive: true);
        }
    }

    private static string S3Logs(S3rver s3, string directory) => $$"""

        logs:
          sink: s3
          directory: {{directory}}
          max_records: 5
          max_age: 200ms
          s3:
            bucket: {{S3rver.Bucket}}
            region: us-east-1
            endpoint: {{s3.ServiceUrl}}
            path_style: true
            compatibility: true
            access_key_id: {{S3rver.Key}}
            secret_access_key: {{S3rver.Key}}
        """;

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

    /// <summary>
    /// While the batcher is still uploading, a read can meet an object s3rver has not finished writing (the SDK then
    /// fails on its checksum headers); that poll counts as "not there yet". The final assertion reads everything whole.
    /// </summary>
    private static async Task<List<string>> PollRequestIds(Amazon.S3.AmazonS3Client client)
    {
        try
        {
            return await RequestIds(client);
        }
        catch (Exception e) when (e is Amazon.S3.AmazonS3Exception or ArgumentOutOfRangeException or IOException or InvalidDataException)
        {
            return [];
        }
    }

    private static async Task<List<string>> RequestIds(Amazon.S3.AmazonS3Client client)
    {
        var ids = new List<string>();
        foreach (var key in await Keys(client))
        {
            using var obj = await client.GetObjectAsync(S3rver.Bucket, key);
            using var gz = new GZipStream(obj.ResponseStream, CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            while (await reader.ReadLineAsync() is { Length: > 0 } line) ids.Add(Id(line));
        }
        return ids;
    }

    private static IEnumerable<string> Lines(string gzFile)
    {
        using var gz = new GZipStream(File.OpenRead(gzFile), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        while (reader.ReadLine() is { Length: > 0 } line) yield return line;
    }

    private static string Id(string line) => JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()!;

    private static async Task<List<string>> Keys(Amazon.S3.AmazonS3Client client)
    {
        var list = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket, Prefix = "requests/" });
        return (list.S3Objects ?? []).Select(o => o.Key).ToList();
    }
}
