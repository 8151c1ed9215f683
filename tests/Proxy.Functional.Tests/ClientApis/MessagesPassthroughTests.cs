using System.Net;
using System.Text;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Anthropic;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// POST /v1/messages to an Anthropic target: the client's bytes go up unchanged except the model (key order, unknown
/// fields and cache_control kept: Anthropic's prompt cache keys on them), and the answer's bytes come back unchanged.
/// </summary>
public sealed class MessagesPassthroughTests
{
    private static Task<TestEnv> Start() => TestEnv.StartAsync(AnthropicUpstream.Config);

    // Keys in an unusual order, an unknown field, cache_control and odd spacing: all must reach the upstream as sent.
    private const string ClientBody = """{"max_tokens": 64,"x_future_field":{"b":2,"a":1},"model":"claude-test","system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hello"}]}""";

    private static HttpRequestMessage Messages(TestEnv env, string body, string? key = TestKeys.All)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, env.Gateway.BaseUrl + "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }

    [Fact]
    public async Task Plain_GoesUpByteForByteExceptModel_AndComesBackUnchanged()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);

        using var request = Messages(env, ClientBody);
        request.Headers.Add("anthropic-beta", "prompt-caching-2024-07-31");
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AnthropicUpstream.TextMessage, await Http.ReadBodyAsync(response));
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/v1/messages", received.Path);
        Assert.Equal(ClientBody.Replace("\"claude-test\"", "\"claude-sonnet-4-5\"", StringComparison.Ordinal), received.BodyText);
        Assert.Equal(TestKeys.UpstreamSecret, received.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", received.Headers["anthropic-version"]);
        Assert.Equal("prompt-caching-2024-07-31", received.Headers["anthropic-beta"]);
        Assert.False(received.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task Stream_PassesThroughEventForEvent()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, AnthropicUpstream.TextStream);

        using var request = Messages(env, ClientBody.Replace("\"max_tokens\": 64,", "\"max_tokens\": 64,\"stream\":true,", StringComparison.Ordinal));
        using var response = await env.Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(string.Concat(AnthropicUpstream.TextStream), await Http.ReadBodyAsync(response));
    }

    [Fact]
    public async Task Overloaded529_ReachesAnthropicClientsAs529WithTheUpstreamBody()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => AnthropicUpstream.Error(ctx, 529, "overloaded_error", "Overloaded", ("retry-after", "7"));

        using var response = await env.Gateway.Client.SendAsync(Messages(env, ClientBody));

        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        using var error = JsonDocument.Parse(await Http.ReadBodyAsync(response));
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal("overloaded_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(null, """{"model":"claude-test","max_tokens":5,"messages":[]}""", 401, "authentication_error")]
    [InlineData("sk-wrong", """{"model":"claude-test","max_tokens":5,"messages":[]}""", 401, "authentication_error")]
    [InlineData(TestKeys.All, """{"model":"nope","max_tokens":5,"messages":[]}""", 404, "not_found_error")]
    [InlineData(TestKeys.All, """{"model":"claude-test",""", 400, "invalid_request_error")]
    public async Task GatewayErrors_HaveAnthropicsShape(string? key, string body, int status, string type)
    {
        await using var env = await Start();

        using var response = await env.Gateway.Client.SendAsync(Messages(env, body, key));

        Assert.Equal(status, (int)response.StatusCode);
        using var error = JsonDocument.Parse(await Http.ReadBodyAsync(response));
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal(type, error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.RootElement.GetProperty("error").GetProperty("message").GetString()));
        Assert.Empty(env.Upstream.Requests);
    }

    [Fact]
    public async Task BearerAuth_IsAcceptedToo()
    {
        await using var env = await Start();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);

        using var request = Messages(env, ClientBody, key: null);
        request.Headers.Add("Authorization", "Bearer " + TestKeys.All);
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>/v1/messages to targets that do not speak Anthropic's API: what the translation cannot honour is refused, clearly.</summary>
public sealed class MessagesTranslationLimitsTests
{
    private static HttpRequestMessage Messages(TestEnv env, string body, string? beta)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, env.Gateway.BaseUrl + "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", TestKeys.All);
        if (beta is not null) request.Headers.Add("anthropic-beta", beta);
        return request;
    }

    [Fact]
    public async Task ServerSideBeta_IsRefusedNamingIt_HarmlessOnesAreNot()
    {
        await using var env = await TestEnv.StartAsync();
        const string body = """{"model":"mock-gpt","max_tokens":20,"messages":[{"role":"user","content":"Hi"}]}""";

        using var refused = await env.Gateway.Client.SendAsync(Messages(env, body, "claude-code-20250219, code-execution-2025-05-22"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        using var error = JsonDocument.Parse(await Http.ReadBodyAsync(refused));
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("code-execution-2025-05-22", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        using var fine = await env.Gateway.Client.SendAsync(Messages(env, body, "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Fact]
    public async Task AnthropicTarget_GetsEveryBetaAsSent()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);

        using var response = await env.Gateway.Client.SendAsync(Messages(env, """{"model":"claude-test","max_tokens":20,"messages":[{"role":"user","content":"Hi"}]}""", "code-execution-2025-05-22"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("code-execution-2025-05-22", (await env.Upstream.FirstRequest()).Headers["anthropic-beta"]);
    }
}
