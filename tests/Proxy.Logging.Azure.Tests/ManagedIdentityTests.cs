using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Proxy.Logging.Azure.Tests;

/// <summary>A settable clock (no extra NuGet package for FakeTimeProvider).</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// A fake managed identity endpoint and fake blob endpoint on one loopback Kestrel server. /token answers like IMDS /
/// App Service ({"access_token":"...","expires_on":"epoch"}); any other request is recorded as a blob upload.
/// Kestrel binds port 0 itself and the port is read back, so no other process can take the port between a probe and
/// the bind (the HttpListener this replaced could only be given a probed port). Delayed answers end when the fake is
/// disposed, so no handler outlives its test.
/// </summary>
internal sealed class FakeAzure : IDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stop = new();
    private int _tokenCount;
    private int _uploadsStarted;

    public FakeAzure()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
        _app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Port = new Uri(address).Port;
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<(string Path, string Query, Dictionary<string, string> Headers)> TokenRequests { get; } = new();

    public ConcurrentQueue<(string Path, Dictionary<string, string> Headers, byte[] Body)> Uploads { get; } = new();

    /// <summary>Uploads whose body has arrived, answered or not yet (see <see cref="UploadDelay"/>).</summary>
    public int UploadsStarted => Volatile.Read(ref _uploadsStarted);

    /// <summary>Given the 1-based token request number: status, access token and expires_on (epoch seconds).</summary>
    public Func<int, (HttpStatusCode Status, string Token, long ExpiresOn)> TokenResponder { get; set; } =
        n => (HttpStatusCode.OK, $"token-{n}", DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());

    public TimeSpan TokenDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How long an upload waits before its answer; <see cref="Timeout.InfiniteTimeSpan"/>: until the fake is disposed.</summary>
    public TimeSpan UploadDelay { get; set; } = TimeSpan.Zero;

    private async Task HandleAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var headers = req.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var path = req.Path.ToUriComponent();
        if (path == "/token")
        {
            TokenRequests.Enqueue((path, req.QueryString.Value ?? "", headers));
            var n = Interlocked.Increment(ref _tokenCount);
            if (TokenDelay > TimeSpan.Zero)
            {
                await Task.Delay(TokenDelay, _stop.Token);
            }

            var (status, token, expiresOn) = TokenResponder(n);
            ctx.Response.StatusCode = (int)status;
            ctx.Response.ContentType = "application/json";
            var json = status == HttpStatusCode.OK
                ? $"{{\"access_token\":\"{token}\",\"client_id\":\"x\",\"expires_in\":\"3599\",\"expires_on\":\"{expiresOn}\",\"resource\":\"https://storage.azure.com/\",\"token_type\":\"Bearer\"}}"
                : "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}";
            await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(json));
            return;
        }

        using var ms = new MemoryStream();
        await req.Body.CopyToAsync(ms);
        Interlocked.Increment(ref _uploadsStarted);
        if (UploadDelay != TimeSpan.Zero)
        {
            await Task.Delay(UploadDelay, _stop.Token);
        }

        Uploads.Enqueue((path, headers, ms.ToArray()));
        ctx.Response.StatusCode = (int)HttpStatusCode.Created;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        _stop.Dispose();
    }
}

public class ManagedIdentityTests
{
    private static CancellationToken Bounded => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private static AzureBlobSinkOptions Options(FakeAzure fake, string? clientId = null, string? identityHeader = null) => new()
    {
        AccountName = "acct",
        Container = "logs",
        Endpoint = fake.BaseUrl + "/acct",
        ManagedIdentity = true,
        ManagedIdentityClientId = clientId,
        ManagedIdentityEndpoint = fake.BaseUrl + "/token",
        ManagedIdentityHeader = identityHeader,
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Imds_token_reaches_the_blob_endpoint_as_bearer_and_is_cached()
    {
        using var fake = new FakeAzure();
        using var http = new HttpClient();
        using var sink = new AzureBlobLogSink(Options(fake, clientId: "11111111-2222-3333-4444-555555555555"), http);
        await sink.UploadAsync("2026/a.jsonl.gz", new byte[] { 0x1f, 0x8b, 1 }, Bounded);
        await sink.UploadAsync("2026/b.jsonl.gz", new byte[] { 0x1f, 0x8b, 2 }, Bounded);

        Assert.Equal(1, sink.Tokens!.Fetches);
        var (_, query, tokenHeaders) = Assert.Single(fake.TokenRequests);
        Assert.Equal("true", tokenHeaders["Metadata"]);
        Assert.Contains("api-version=2018-02-01", query, StringComparison.Ordinal);
        Assert.Contains("resource=https%3A%2F%2Fstorage.azure.com%2F", query, StringComparison.Ordinal);
        Assert.Contains("client_id=11111111-2222-3333-4444-555555555555", query, StringComparison.Ordinal);

        var uploads = fake.Uploads.ToArray();
        Assert.Equal(2, uploads.Length);
        Assert.All(uploads, u => Assert.Equal("Bearer token-1", u.Headers["Authorization"]));
        Assert.Equal("/acct/logs/2026/a.jsonl.gz", uploads[0].Path);
        Assert.Equal("BlockBlob", uploads[0].Headers["x-ms-blob-type"]);
        Assert.Equal("application/gzip", uploads[0].Headers["Content-Type"]);
        Assert.Equal(AzureBlobLogSink.ServiceVersion, uploads[0].Headers["x-ms-version"]);
        Assert.True(uploads[0].Headers.ContainsKey("x-ms-date"));
        Assert.Equal(new byte[] { 0x1f, 0x8b, 1 }, uploads[0].Body);
    }

    [Fact]
    public async Task App_service_style_endpoint_sends_the_identity_header()
    {
        using var fake = new FakeAzure();
        using var http = new HttpClient();
        using var sink = new AzureBlobLogSink(Options(fake, identityHeader: "secret-header-value"), http);
        await sink.UploadAsync("a.jsonl.gz", new byte[] { 1 }, Bounded);
        var (_, query, headers) = Assert.Single(fake.TokenRequests);
        Assert.Equal("secret-header-value", headers["X-IDENTITY-HEADER"]);
        Assert.False(headers.ContainsKey("Metadata"));
        Assert.Contains("api-version=2019-08-01", query, StringComparison.Ordinal);
        Assert.DoesNotContain("client_id", query, StringComparison.Ordinal);
        Assert.Equal("Bearer token-1", Assert.Single(fake.Uploads).Headers["Authorization"]);
    }

    [Fact]
    public async Task Token_is_refreshed_a_few_minutes_before_expiry()
    {
        using var fake = new FakeAzure();
        var start = DateTimeOffset.UtcNow;
        var clock = new ManualTime(start);
        fake.TokenResponder = n => (HttpStatusCode.OK, $"token-{n}", clock.Now.AddMinutes(60).ToUnixTimeSeconds());
        using var http = new HttpClient();
        using var sink = new AzureBlobLogSink(Options(fake), http, ownsClient: false, clock);

        await sink.UploadAsync("1.gz", new byte[] { 1 }, Bounded);
        clock.Now = start.AddMinutes(54); // 6 minutes left: still cached
        await sink.UploadAsync("2.gz", new byte[] { 2 }, Bounded);
        Assert.Equal(1, sink.Tokens!.Fetches);

        clock.Now = start.AddMinutes(56); // inside the 5-minute refresh window
        await sink.UploadAsync("3.gz", new byte[] { 3 }, Bounded);
        Assert.Equal(2, sink.Tokens.Fetches);
        Assert.Equal(new[] { "Bearer token-1", "Bearer token-1", "Bearer token-2" }, fake.Uploads.Select(u => u.Headers["Authorization"]).ToArray());
    }

    [Fact]
    public async Task Concurrent_callers_share_a_single_refresh()
    {
        using var fake = new FakeAzure { TokenDelay = TimeSpan.FromMilliseconds(300) };
        using var http = new HttpClient();
        using var sink = new AzureBlobLogSink(Options(fake), http);
        var uploads = Enumerable.Range(0, 8).Select(i => sink.UploadAsync($"c/{i}.gz", new byte[] { (byte)i }, Bounded));
        await Task.WhenAll(uploads).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, sink.Tokens!.Fetches);
        Assert.Single(fake.TokenRequests);
        Assert.Equal(8, fake.Uploads.Count);
    }

    [Fact]
    public async Task Refresh_failure_keeps_a_still_valid_token_and_expired_token_failure_is_clear()
    {
        using var fake = new FakeAzure();
        var start = DateTimeOffset.UtcNow;
        var clock = new ManualTime(start);
        fake.TokenResponder = n => n == 1
            ? (HttpStatusCode.OK, "token-1", start.AddMinutes(60).ToUnixTimeSeconds())
            : (HttpStatusCode.BadRequest, "", 0);
        using var http = new HttpClient();
        using var sink = new AzureBlobLogSink(Options(fake), http, ownsClient: false, clock);
        await sink.UploadAsync("1.gz", new byte[] { 1 }, Bounded);

        clock.Now = start.AddMinutes(57); // refresh fails, old token still valid for 3 minutes
        await sink.UploadAsync("2.gz", new byte[] { 2 }, Bounded);
        Assert.Equal(2, sink.Tokens!.Fetches);

        clock.Now = start.AddMinutes(61); // expired and refresh fails: upload fails, nothing sent
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("3.gz", new byte[] { 3 }, Bounded));
        Assert.Null(ex.StatusCode);
        Assert.Contains("managed identity token unavailable", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 400", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Identity not found", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("token-1", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, fake.Uploads.Count);
    }

    [Fact]
    public async Task Token_endpoint_down_names_the_token_endpoint()
    {
        using var fake = new FakeAzure();
        var options = Options(fake);
        options.ManagedIdentityEndpoint = "http://127.0.0.1:9/metadata/identity/oauth2/token";
        using var sink = new AzureBlobLogSink(options);
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("a.gz", new byte[] { 1 }, Bounded));
        Assert.Null(ex.StatusCode);
        Assert.Contains("managed identity token unavailable: token request to http://127.0.0.1:9/metadata/identity/oauth2/token failed", ex.Message, StringComparison.Ordinal);
        Assert.Empty(fake.Uploads);
    }

    [Fact]
    public async Task Slow_blob_endpoint_times_out_and_caller_cancellation_propagates()
    {
        // The blob endpoint never answers while the fake lives, so only the sink's timeout or the caller can end an upload.
        using var fake = new FakeAzure { UploadDelay = Timeout.InfiniteTimeSpan };
        var options = Options(fake);
        options.RequestTimeout = TimeSpan.FromSeconds(5);
        using var http = new HttpClient();
        using var sink = new AzureBlobLogSink(options, http);
        // The token first: its fetch shares the upload's timeout, and the first request of a test process on a loaded
        // 2-core machine can take a good part of a second. The timed upload below is then the blob request alone.
        await sink.Tokens!.GetTokenAsync(Bounded);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<AzureBlobLogSinkException>(() => sink.UploadAsync("slow.gz", new byte[] { 1 }, Bounded));
        Assert.Contains("timed out after 5s", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, fake.UploadsStarted);
        // The timeout cannot fire early; no upper bound is needed: the endpoint never answers, so the error is the timeout's.
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(4.9), sw.Elapsed.ToString());

        options.RequestTimeout = TimeSpan.FromMinutes(1);
        using var sink2 = new AzureBlobLogSink(options, http);
        await sink2.Tokens!.GetTokenAsync(Bounded);
        using var cts = new CancellationTokenSource();
        var upload = sink2.UploadAsync("slow.gz", new byte[] { 1 }, cts.Token);
        // Cancel once the request is at the blob endpoint (a bounded wait on that, not a fixed delay).
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (fake.UploadsStarted < 2 && waited.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
        Assert.Equal(2, fake.UploadsStarted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Theory]
    [InlineData("{\"access_token\":\"t\",\"expires_on\":\"1800000000\"}", 1800000000L)]
    [InlineData("{\"access_token\":\"t\",\"expires_on\":1800000000}", 1800000000L)]
    [InlineData("{\"token_type\":\"Bearer\",\"access_token\":\"t\",\"expires_in\":\"600\"}", 1700000600L)]
    public void Token_response_parsing(string json, long expectedEpoch)
    {
        var token = Proxy.Credentials.EntraTokenResponse.Parse(Encoding.UTF8.GetBytes(json), DateTimeOffset.FromUnixTimeSeconds(1700000000));
        Assert.Equal("t", token.Token);
        Assert.Equal(expectedEpoch, token.ExpiresOn.ToUnixTimeSeconds());
        Assert.DoesNotContain("t,", token.ToString(), StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => Proxy.Credentials.EntraTokenResponse.Parse("{\"expires_on\":\"1\"}"u8, DateTimeOffset.UtcNow));
    }
}
