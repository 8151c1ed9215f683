using System.Net;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Providers.Tests.Bedrock;

namespace Proxy.Functional.Tests.Providers.Bedrock;

/// <summary>What a client sees when Bedrock, its credentials or the translation fail.</summary>
public sealed class BedrockErrorTests
{
    private const string Hello = """{"model":"claude","messages":[{"role":"user","content":"hi"}]}""";
    private const string HelloStream = """{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task WrongSecret_FakeRejectsTheSignature_ClientGets502UpstreamAuthFailed()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys(secret: "not-the-real-secret")));

        using var response = await gateway.PostAsync("/v1/chat/completions", Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await Error(response);
        Assert.Equal("upstream_auth_failed", error.GetProperty("code").GetString());
        Assert.Contains("InvalidSignatureException", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("signature we calculated does not match", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-real-secret", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, bedrock.Rejected);
        Assert.Empty(bedrock.Calls);
    }

    [Fact]
    public async Task Throttling_BecomesRateLimit429_WithRetryAfter()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        bedrock.Answer = (_, ctx) => Upstream.Json(ctx, 429, """{"message":"Too many requests, please wait before trying again."}""",
            ("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"), ("Retry-After", "3"));
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        using var response = await gateway.PostAsync("/v1/chat/completions", Hello);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("3", response.Headers.RetryAfter?.ToString());
        var error = await Error(response);
        Assert.Equal(("rate_limit_error", "rate_limit_exceeded"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains("Too many requests", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidationException_Becomes400_WithBedrocksMessage()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        bedrock.Answer = (_, ctx) => Upstream.Json(ctx, 400, """{"message":"The model returned the following errors: temperature: range: 0..1"}""",
            ("x-amzn-ErrorType", "ValidationException"));
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        using var response = await gateway.PostAsync("/v1/chat/completions", Hello);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await Error(response);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains("temperature: range: 0..1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamExceptionFrame_EndsTheClientStreamWithAnErrorEvent()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        bedrock.Answer = (_, ctx) => FakeBedrock.Stream(ctx,
        [
            EventStreamEncoder.Event("messageStart", """{"role":"assistant"}"""),
            EventStreamEncoder.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"text":"Partial"}}"""),
            EventStreamEncoder.Exception("serviceUnavailableException", """{"message":"Bedrock is unable to process your request."}"""),
        ]);
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        using var response = await gateway.PostStreamingAsync("/v1/chat/completions", HelloStream);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await ReadEventsAsync(response);

        Assert.Contains("Partial", events[1], StringComparison.Ordinal);
        using var last = JsonDocument.Parse(events[^1]);
        var error = last.RootElement.GetProperty("error");
        Assert.Equal("upstream_unavailable", error.GetProperty("code").GetString());
        Assert.Contains("Bedrock is unable to process your request.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task CorruptFrame_EndsTheClientStreamWithAnErrorEvent_NotGarbage()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        var frames = FakeBedrock.TextStream("Hello", " world");
        frames[2][^6] ^= 0x01; // a payload byte of " world": the message CRC no longer matches
        bedrock.Answer = (_, ctx) => FakeBedrock.Stream(ctx, frames);
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        using var response = await gateway.PostStreamingAsync("/v1/chat/completions", HelloStream);
        var events = await ReadEventsAsync(response);

        Assert.Contains("Hello", events[1], StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Contains("world", StringComparison.Ordinal));
        Assert.Contains("upstream_stream_corrupt", events[^1], StringComparison.Ordinal);
        Assert.Contains("message CRC mismatch", events[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntranslatableRequest_Is400_AndNeverReachesBedrock()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        using var response = await gateway.PostAsync("/v1/chat/completions",
            """{"model":"claude","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await Error(response);
        Assert.Equal(("invalid_request_error", "unsupported_by_provider"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Equal("messages[0].content[0].image_url.url", error.GetProperty("param").GetString());
        Assert.Contains("base64 data URL", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, bedrock.Rejected);
        Assert.Empty(bedrock.Calls);
    }

    [Fact]
    public async Task OkThatIsNotAConverseAnswer_Is502UpstreamInvalidAnswer()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        // A 200 from something in between (a misconfigured base_url, a proxy's page) rather than Converse.
        bedrock.Answer = (_, ctx) => Upstream.Json(ctx, 200, """{"status":"ok","output":"maintenance"}""");
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        using var response = await gateway.PostAsync("/v1/chat/completions", Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await Error(response);
        Assert.Equal(("upstream_error", "upstream_invalid_answer"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains("could not read", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var metrics = await Metrics.MetricsTests.ScrapeAsync(gateway);
        Assert.Equal(1, metrics.Value("llm_gateway_upstream_errors_total", ("class", "invalid_answer")));
    }

    internal static async Task<JsonElement> Error(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("error").Clone();
    }

    /// <summary>Every data payload until the gateway ends or aborts the stream.</summary>
    internal static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        try
        {
            while (await reader.NextDataAsync() is { } data) events.Add(data);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // After an error event the gateway aborts the response, so the client sees a broken stream: expected.
        }
        return events;
    }
}
