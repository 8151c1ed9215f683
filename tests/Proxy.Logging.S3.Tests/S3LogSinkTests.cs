using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.S3.Model;

namespace Proxy.Logging.S3.Tests;

public sealed class S3LogSinkTests : IClassFixture<S3rverFixture>
{
    private readonly S3rver _s3;

    public S3LogSinkTests(S3rverFixture fixture) => _s3 = fixture.Server;

    private static byte[] Gzip(string text)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        return ms.ToArray();
    }

    private static async Task<byte[]> ReadAsync(Amazon.S3.IAmazonS3 client, string key)
    {
        using var response = await client.GetObjectAsync(S3rver.Bucket, key);
        using var ms = new MemoryStream();
        await response.ResponseStream.CopyToAsync(ms);
        return ms.ToArray();
    }

    private static async Task<List<S3Object>> ListAsync(Amazon.S3.IAmazonS3 client, string prefix)
    {
        var response = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket, Prefix = prefix });
        return response.S3Objects ?? [];
    }

    [Fact]
    public async Task Uploads_several_objects_that_read_back_byte_for_byte()
    {
        var run = Guid.NewGuid().ToString("N");
        using var sink = new S3LogSink(_s3.Options());
        Assert.Equal("s3", sink.Name);

        var expected = new Dictionary<string, byte[]>();
        for (var i = 0; i < 5; i++)
        {
            var key = $"{run}/2026/11/22/12/gw-1-{i:D4}.jsonl.gz";
            var body = Gzip(string.Concat(Enumerable.Range(0, 50 * (i + 1)).Select(n => $"{{\"n\":{n},\"batch\":{i}}}\n")));
            expected[key] = body;
            await sink.UploadAsync(key, body, CancellationToken.None);
        }

        // A slice of a larger array (offset != 0) must upload exactly the slice.
        var padded = new byte[100];
        var slice = Gzip("{\"slice\":true}\n");
        slice.CopyTo(padded, 10);
        var sliceKey = $"{run}/slice.jsonl.gz";
        expected[sliceKey] = slice;
        await sink.UploadAsync(sliceKey, padded.AsMemory(10, slice.Length), CancellationToken.None);

        using var client = _s3.Client();
        var listed = await ListAsync(client, run + "/");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), listed.Select(o => o.Key).Order(StringComparer.Ordinal));
        foreach (var (key, body) in expected)
        {
            Assert.Equal(body, await ReadAsync(client, key));
        }

        using var meta = await client.GetObjectAsync(S3rver.Bucket, sliceKey);
        Assert.Equal("application/gzip", meta.Headers.ContentType);
        using var text = new StreamReader(new GZipStream(meta.ResponseStream, CompressionMode.Decompress));
        Assert.Equal("{\"slice\":true}\n", await text.ReadToEndAsync());
    }

    [Fact]
    public async Task Retried_upload_of_the_same_key_overwrites()
    {
        var key = $"{Guid.NewGuid():N}/retry.jsonl.gz";
        using var sink = new S3LogSink(_s3.Options());
        await sink.UploadAsync(key, Gzip("{\"attempt\":1}\n"), CancellationToken.None);
        var second = Gzip("{\"attempt\":2,\"more\":\"bytes\"}\n");
        await sink.UploadAsync(key, second, CancellationToken.None);

        using var client = _s3.Client();
        var listed = await ListAsync(client, key);
        Assert.Single(listed);
        Assert.Equal(second.Length, listed[0].Size);
        Assert.Equal(second, await ReadAsync(client, key));
    }

    [Fact]
    public async Task Leading_slash_in_object_name_is_not_an_empty_path_segment()
    {
        var run = Guid.NewGuid().ToString("N");
        using var sink = new S3LogSink(_s3.Options());
        var body = Gzip("{}\n");
        await sink.UploadAsync($"/{run}/a.jsonl.gz", body, CancellationToken.None);
        using var client = _s3.Client();
        Assert.Equal(body, await ReadAsync(client, $"{run}/a.jsonl.gz"));
    }

    [Fact]
    public async Task Sse_s3_upload_is_accepted()
    {
        var key = $"{Guid.NewGuid():N}/sse.jsonl.gz";
        var options = _s3.Options();
        options.ServerSideEncryption = S3ServerSideEncryption.Aes256;
        using var sink = new S3LogSink(options);
        var body = Gzip("{\"sse\":1}\n");
        await sink.UploadAsync(key, body, CancellationToken.None);
        using var client = _s3.Client();
        Assert.Equal(body, await ReadAsync(client, key));
    }

    [Fact]
    public async Task Wrong_bucket_gives_a_clear_exception()
    {
        using var sink = new S3LogSink(_s3.Options(bucket: "no-such-bucket"));
        var ex = await Assert.ThrowsAsync<S3LogSinkException>(
            () => sink.UploadAsync("x/y.jsonl.gz", Gzip("{}\n"), CancellationToken.None));
        Assert.Equal("no-such-bucket", ex.Bucket);
        Assert.Equal("x/y.jsonl.gz", ex.Key);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("NoSuchBucket", ex.ErrorCode);
        Assert.Contains("bucket 'no-such-bucket'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("key 'x/y.jsonl.gz'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 404", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_secret_gives_a_clear_exception_without_the_secret()
    {
        var options = _s3.Options();
        options.AccessKeyId = "AKIANOTAKEY";
        options.SecretAccessKey = "not-the-secret-42";
        using var sink = new S3LogSink(options);
        var ex = await Assert.ThrowsAsync<S3LogSinkException>(
            () => sink.UploadAsync("x/auth.jsonl.gz", Gzip("{}\n"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        Assert.DoesNotContain("not-the-secret-42", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret-42", options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopped_server_gives_an_exception_within_a_bounded_time()
    {
        var server = S3rver.Start();
        var options = server.Options();
        using var sink = new S3LogSink(options);
        await sink.UploadAsync("before-stop.jsonl.gz", Gzip("{}\n"), CancellationToken.None);
        server.Dispose();

        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<S3LogSinkException>(
            () => sink.UploadAsync("after-stop.jsonl.gz", Gzip("{}\n"), CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
        Assert.Null(ex.StatusCode);
        Assert.Contains("bucket 'logs'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(options.ServiceUrl!, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_that_never_answers_times_out_within_a_bounded_time()
    {
        // Accepts the connection and then stays silent: only the SDK timeout can end the upload.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = new List<Socket>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    accepted.Add(await listener.AcceptSocketAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var options = new S3SinkOptions
        {
            Bucket = "logs",
            ServiceUrl = $"http://127.0.0.1:{port}",
            ForcePathStyle = true,
            Compatibility = true,
            AccessKeyId = "k",
            SecretAccessKey = "s",
            RequestTimeout = TimeSpan.FromSeconds(1),
            MaxErrorRetry = 0,
        };
        using var sink = new S3LogSink(options);
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<S3LogSinkException>(
            () => sink.UploadAsync("silent.jsonl.gz", Gzip("{}\n"), CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Contains("key 'silent.jsonl.gz'", ex.Message, StringComparison.Ordinal);

        await stop.CancelAsync();
        listener.Stop();
        await acceptLoop.WaitAsync(TimeSpan.FromSeconds(5));
        foreach (var s in accepted)
        {
            s.Dispose();
        }
    }

    [Fact]
    public async Task Caller_cancellation_surfaces_as_cancellation()
    {
        using var sink = new S3LogSink(_s3.Options());
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => sink.UploadAsync("cancelled.jsonl.gz", Gzip("{}\n"), cts.Token));
    }
}

public sealed class S3SinkOptionsTests
{
    [Fact]
    public void Missing_bucket_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new S3SinkOptions { Region = "eu-west-1" }.Validate());
        Assert.Contains("Bucket is required", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new S3LogSink(new S3SinkOptions { Bucket = "  " }));
    }

    [Fact]
    public void Sse_kms_without_key_id_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new S3SinkOptions { Bucket = "b", ServerSideEncryption = S3ServerSideEncryption.AwsKms }.Validate());
        Assert.Contains("KmsKeyId", ex.Message, StringComparison.Ordinal);

        new S3SinkOptions { Bucket = "b", ServerSideEncryption = S3ServerSideEncryption.AwsKms, KmsKeyId = "alias/logs" }.Validate();
    }

    [Fact]
    public void Half_given_static_credentials_and_bad_urls_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new S3SinkOptions { Bucket = "b", AccessKeyId = "AKIA" }.Validate());
        Assert.Throws<ArgumentException>(() => new S3SinkOptions { Bucket = "b", SessionToken = "t" }.Validate());
        Assert.Throws<ArgumentException>(() => new S3SinkOptions { Bucket = "b", ServiceUrl = "storage.googleapis.com" }.Validate());
        Assert.Throws<ArgumentException>(() => new S3SinkOptions { Bucket = "b", KmsKeyId = "k" }.Validate());
        Assert.Throws<ArgumentException>(() => new S3SinkOptions { Bucket = "b", MaxErrorRetry = -1 }.Validate());
    }

    [Fact]
    public void ToString_does_not_leak_secrets()
    {
        var o = new S3SinkOptions { Bucket = "b", AccessKeyId = "AKIAEXAMPLE1234", SecretAccessKey = "sekrit/value", SessionToken = "tok-en" };
        var s = o.ToString();
        Assert.DoesNotContain("sekrit", s, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-en", s, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIAEXAMPLE", s, StringComparison.Ordinal);
    }

    [Fact]
    public void Gcs_interop_options_build_a_client()
    {
        var o = new S3SinkOptions
        {
            Bucket = "b",
            ServiceUrl = "https://storage.googleapis.com",
            Region = "auto",
            Compatibility = true,
            AccessKeyId = "GOOG1EXAMPLE",
            SecretAccessKey = "x",
        };
        using var client = S3LogSink.CreateClient(o);
        Assert.Equal(Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED, client.Config.RequestChecksumCalculation);
        Assert.Equal(Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED, client.Config.ResponseChecksumValidation);
    }
}
