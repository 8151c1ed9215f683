using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Xunit.Abstractions;

namespace Proxy.Logging.Azure.Tests;

public class AzuriteTests(AzuriteFixture fixture, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Azurite _azurite = fixture.Server;

    private static CancellationToken Bounded => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private async Task<string> NewContainerAsync()
    {
        var name = "logs-" + Guid.NewGuid().ToString("N")[..12];
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{_azurite.Endpoint}/{name}?restype=container");
        Sign(request);
        using var response = await Http.SendAsync(request, Bounded);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return name;
    }

    private static void Sign(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("x-ms-version", AzureBlobLogSink.ServiceVersion);
        SharedKeySigner.Authorize(request, Azurite.Account, Convert.FromBase64String(Azurite.Key));
    }

    private async Task<(byte[] Body, string? ContentType, string? BlobType)> ReadAsync(string container, string blob)
    {
        var path = string.Join('/', blob.Split('/').Select(Uri.EscapeDataString));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_azurite.Endpoint}/{container}/{path}");
        Sign(request);
        using var response = await Http.SendAsync(request, Bounded);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsByteArrayAsync(Bounded),
            response.Content.Headers.ContentType?.MediaType,
            response.Headers.TryGetValues("x-ms-blob-type", out var t) ? t.Single() : null);
    }

    private static byte[] Gzip(string text)
    {
        using var ms = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        return ms.ToArray();
    }

    [Fact]
    public async Task Shared_key_uploads_several_blobs_and_they_read_back_byte_for_byte()
    {
        var container = await NewContainerAsync();
        using var sink = new AzureBlobLogSink(_azurite.SharedKeyOptions(container));
        var names = new[] { "2026/11/22/12/a.jsonl.gz", "2026/11/22/12/b c+d.jsonl.gz", "/leading/slash.jsonl.gz", "ünïcode/é.jsonl.gz" };
        var bodies = names.Select((n, i) => Gzip($"{{\"i\":{i},\"n\":\"{n}\"}}\n")).ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            await sink.UploadAsync(names[i], bodies[i], Bounded);
        }

        for (var i = 0; i < names.Length; i++)
        {
            var (body, contentType, blobType) = await ReadAsync(container, names[i].TrimStart('/'));
            Assert.Equal(bodies[i], body);
            Assert.Equal("application/gzip", contentType);
            Assert.Equal("BlockBlob", blobType);
        }
    }

    [Fact]
    public async Task Retry_under_the_same_name_overwrites()
    {
        var container = await NewContainerAsync();
        using var sink = new AzureBlobLogSink(_azurite.SharedKeyOptions(container));
        await sink.UploadAsync("batch-1.jsonl.gz", Gzip("first attempt, much longer than the second one\n"), Bounded);
        var second = Gzip("second\n");
        await sink.UploadAsync("batch-1.jsonl.gz", second, Bounded);
        Assert.Equal(second, (await ReadAsync(container, "batch-1.jsonl.gz")).Body);

        // A slice of a larger buffer (the batcher's pooled memory) uploads exactly the slice.
        var pooled = new byte[second.Length + 20];
        second.CopyTo(pooled, 10);
        await sink.UploadAsync("batch-2.jsonl.gz", pooled.AsMemory(10, second.Length), Bounded);
        Assert.Equal(second, (await ReadAsync(container, "batch-2.jsonl.gz")).Body);
    }

    [Fact]
    public async Task Sas_token_upload_works()
    {
        var container = await NewContainerAsync();
        var sas = ContainerSas(container, "cw", DateTimeOffset.UtcNow.AddHours(1));
        var options = new AzureBlobSinkOptions
        {
            AccountName = Azurite.Account,
            Container = container,
            Endpoint = _azurite.Endpoint,
            SasToken = "?" + sas,
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        using var sink = new AzureBlobLogSink(options);
        var body = Gzip("via sas\n");
        await sink.UploadAsync("sas/one.jsonl.gz", body, Bounded);
        await sink.UploadAsync("sas/one.jsonl.gz", body, Bounded); // overwrite needs only write permission
        Assert.Equal(body, (await ReadAsync(container, "sas/one.jsonl.gz")).Body);
    }

    [Fact]
    public async Task Sas_token_with_bad_signature_gives_403_without_the_signature_in_the_message()
    {
        var container = await NewContainerAsync();
        var good = ContainerSas(container, "cw", DateTimeOffset.UtcNow.AddHours(1));
        var forged = ContainerSas(container, "cw", DateTimeOffset.UtcNow.AddHours(1), Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)));
        Assert.NotEqual(good, forged);
        using var sink = new AzureBlobLogSink(new AzureBlobSinkOptions
        {
            AccountName = Azurite.Account, Container = container, Endpoint = _azurite.Endpoint, SasToken = forged,
            RequestTimeout = TimeSpan.FromSeconds(10),
        });
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("x.jsonl.gz", Gzip("x"), Bounded));
        output.WriteLine(ex.Message);
        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        var sig = Uri.UnescapeDataString(forged.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))[4..]);
        Assert.DoesNotContain(sig, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(forged, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_key_gives_a_clear_403_without_the_key()
    {
        var container = await NewContainerAsync();
        var wrongKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var options = _azurite.SharedKeyOptions(container);
        options.AccountKey = wrongKey;
        using var sink = new AzureBlobLogSink(options);
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("2026/x.jsonl.gz", Gzip("x"), Bounded));
        output.WriteLine(ex.Message);
        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        Assert.False(string.IsNullOrEmpty(ex.ErrorCode));
        Assert.Equal(Azurite.Account, ex.Account);
        Assert.Equal(container, ex.Container);
        Assert.Equal("2026/x.jsonl.gz", ex.BlobName);
        Assert.Contains($"account '{Azurite.Account}' container '{container}' blob '2026/x.jsonl.gz'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 403", ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.ErrorCode!, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Azurite.Key, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_container_names_the_error_code()
    {
        using var sink = new AzureBlobLogSink(_azurite.SharedKeyOptions("does-not-exist"));
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("a.jsonl.gz", Gzip("x"), Bounded));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("ContainerNotFound", ex.ErrorCode);
    }

    [Fact]
    public async Task Unreachable_endpoint_fails_without_status_and_within_the_timeout()
    {
        var options = _azurite.SharedKeyOptions("logs");
        options.Endpoint = "http://127.0.0.1:9/devstoreaccount1";
        options.RequestTimeout = TimeSpan.FromSeconds(3);
        using var sink = new AzureBlobLogSink(options);
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("a.jsonl.gz", Gzip("x"), Bounded));
        Assert.Null(ex.StatusCode);
        Assert.Contains("no HTTP response", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Service SAS for a container (REST reference "Create a service SAS", version 2020-12-06 and later):
    /// StringToSign = sp \n st \n se \n "/blob/{account}/{container}" \n si \n sip \n spr \n sv \n sr \n
    /// snapshotTime \n ses \n rscc \n rscd \n rsce \n rscl \n rsct, HMAC-SHA256 with the account key.
    /// </summary>
    private static string ContainerSas(string container, string permissions, DateTimeOffset expiry, string? signingKey = null)
    {
        const string version = "2021-08-06";
        var se = expiry.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var stringToSign = string.Join('\n',
            permissions, "", se, $"/blob/{Azurite.Account}/{container}", "", "", "", version, "c", "", "", "", "", "", "", "");
        var sig = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(signingKey ?? Azurite.Key), Encoding.UTF8.GetBytes(stringToSign)));
        return $"sv={version}&se={Uri.EscapeDataString(se)}&sr=c&sp={permissions}&sig={Uri.EscapeDataString(sig)}";
    }
}
