using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Every upstream failure gets an OpenAI-shaped error that names the provider and says what went wrong.</summary>
public sealed class UpstreamErrorTests
{
    private const string Chat = "/v1/chat/completions";

    [Fact]
    public async Task UpstreamUnreachable_502_NamesProvider()
    {
        using var closedPort = TestConfig.ClosedPort(out int closed);
        await using var env = await TestEnv.StartAsync(_ => TestConfig.Standard($"http://127.0.0.1:{closed}/v1"));

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        var error = await Assertions.AssertOpenAiError(response, 502, "upstream_error", code: "upstream_unreachable", messageContains: "Upstream 'up' is unreachable");
        Assert.Contains("connection", Assertions.Message(error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "it closed the connection before answering")]
    [InlineData("SMTP ready\r\n\r\n", "it sent an invalid HTTP response")]
    public async Task UpstreamNotSpeakingHttp_502SaysWhat(string reply, string expected)
    {
        await using var raw = new RawTcpUpstream(reply);
        await using var gateway = await GatewayHost.StartAsync(TestConfig.Standard(raw.BaseUrl));

        using var response = await gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", code: "upstream_unreachable", messageContains: "Upstream 'up' is unreachable: " + expected);
    }

    [Fact]
    public async Task UpstreamHangsBeforeHeaders_504_WithinFirstByteTimeout()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, firstByteTimeout: "500ms"));
        env.Upstream.Handler = ctx => Upstream.Hang(ctx);
        var clock = Stopwatch.StartNew();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        var elapsed = clock.Elapsed;
        await Assertions.AssertOpenAiError(response, 504, "timeout_error", code: "upstream_timeout", messageContains: "Upstream 'up' did not answer within 0.5s");
        Assert.InRange(elapsed, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(8)); // the upstream hangs 10 s
        await (await env.Upstream.FirstRequest()).Aborted.WaitAsync(TimeSpan.FromSeconds(8)); // under the upstream's own 10 s hang (or 15 s), so only an abort ends it in time
    }

    [Fact]
    public async Task Plain_ClientGoesAwayWhileUpstreamThinks_UpstreamAborted()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, firstByteTimeout: "20s"));
        env.Upstream.Handler = ctx => Upstream.Hang(ctx, 15);
        using var cts = new CancellationTokenSource();

        var call = env.Gateway.Client.SendAsync(env.Gateway.Request(HttpMethod.Post, Chat, """{"model":"gpt-test","messages":[]}"""), cts.Token);
        var received = await env.Upstream.FirstRequest();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await received.Aborted.WaitAsync(TimeSpan.FromSeconds(8)); // under the upstream's own 10 s hang (or 15 s), so only an abort ends it in time
    }

    [Fact]
    public async Task UpstreamDropsPlainAnswerMidway_502()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = 1000;
            await Upstream.Send(ctx, """{"id":"chatcmpl-cut","choices":[""");
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
        };

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", code: "upstream_incomplete", messageContains: "Upstream 'up' dropped the connection mid-answer");
    }

    [Fact]
    public async Task Upstream400WithOpenAiError_PassedThroughUnchanged()
    {
        await using var env = await TestEnv.StartAsync();
        const string upstreamError = """{"error":{"message":"Invalid value for 'temperature': must be <= 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}""";
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 400, upstreamError);

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[],"temperature":7}""");

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(upstreamError, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Upstream429WithRetryAfter_429AndRetryAfterPassed()
    {
        await using var env = await TestEnv.StartAsync();
        const string upstreamError = """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, upstreamError, ("Retry-After", "7"));

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 429, "requests", code: "rate_limit_exceeded", messageContains: "Rate limit reached");
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Upstream429NotOpenAiShaped_429RateLimitErrorWithRetryAfter()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, """{"message":"slow down"}""", ("Retry-After", "3"));

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 429, "rate_limit_error", code: "rate_limit_exceeded", messageContains: "Upstream 'up' is rate limiting: slow down");
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Upstream401_502UpstreamAuthFailed()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 401,
            """{"error":{"message":"Incorrect API key provided: sk-upstr***.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", code: "upstream_auth_failed", messageContains: "Upstream 'up' rejected the gateway's credentials (HTTP 401)");
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task UpstreamRedirects_502NotARedirectToTheClient()
    {
        await using var env = await TestEnv.StartAsync();
        // e.g. base_url written with http:// for a server that moved to https://
        env.Upstream.Handler = ctx =>
        {
            ctx.Response.StatusCode = 301;
            ctx.Response.Headers.Location = "https://elsewhere.example/v1/chat/completions";
            return Task.CompletedTask;
        };

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", messageContains: "Upstream 'up'");
    }

    [Fact]
    public async Task Upstream500NotJson_502ShapedWithStatus()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            ctx.Response.StatusCode = 503;
            ctx.Response.ContentType = "text/html";
            await ctx.Response.WriteAsync("<html>bad gateway</html>", ctx.RequestAborted);
        };

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 503, "upstream_error", code: "upstream_error", messageContains: "Upstream 'up' failed (HTTP 503)");
    }
}
