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
            var body = i % 3 == 0 ? """{"model":"mock-gpt","stream":true,"messages":[]}""" : """{"model":"mock-gpt","messages":[]}""";
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

    private static async Task<List<string>> Keys(Amazon.S3.AmazonS3Client client)
    {
        var list = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket, Prefix = "requests/" });
        return (list.S3Objects ?? []).Select(o => o.Key).ToList();
    }
}
