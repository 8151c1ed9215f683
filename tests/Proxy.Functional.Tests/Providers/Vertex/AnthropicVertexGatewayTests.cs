using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Anthropic;
using Proxy.Functional.Tests.Providers.Gemini;

namespace Proxy.Functional.Tests.Providers.Vertex;

/// <summary>
/// Claude on Vertex AI (a vertex provider with publisher anthropic) behind the real gateway: a fake Vertex AI that
/// speaks Anthropic's Messages format at rawPredict / streamRawPredict, a fake Google token source, and the OpenAI SDK
/// unchanged. Errors come from two layers: Vertex's front end (google.rpc.Status) and Claude behind it.
/// </summary>
public sealed class AnthropicVertexGatewayTests
{
    private const string Chat = """{"model":"claude-test","messages":[{"role":"user","content":"hello"}]}""";

    [Fact]
    public async Task ServiceAccount_PlainStreamedAndToolCalls_ThroughTheOpenAiSdk()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: "us-east5", publisher: "anthropic");
        var chat = AnthropicSdkScenarios.Chat(env.Gateway.BaseUrl);

        await AnthropicSdkScenarios.PlainAsync(chat, env.Vertex);
        await AnthropicSdkScenarios.StreamingAsync(chat, env.Vertex);
        await AnthropicSdkScenarios.ToolCallRoundTripAsync(chat, env.Vertex);
        await AnthropicSdkScenarios.StreamingToolCallsAsync(chat, env.Vertex);

        var sent = env.Vertex.Requests.ToList();
        Assert.Equal(5, sent.Count);
        Assert.Equal(VertexEnv.ClaudePath("us-east5", "rawPredict"), sent[0].Path);
        Assert.Equal(VertexEnv.ClaudePath("us-east5", "streamRawPredict"), sent[1].Path);
        Assert.Equal(VertexEnv.ClaudePath("us-east5", "rawPredict"), sent[2].Path);
        Assert.Equal(VertexEnv.ClaudePath("us-east5", "streamRawPredict"), sent[4].Path);
        foreach (var request in sent)
        {
            Assert.Equal("Bearer " + VertexEnv.Token(1), request.Headers["Authorization"]);
            Assert.False(request.Headers.ContainsKey("x-api-key"));
            Assert.False(request.Headers.ContainsKey("anthropic-version"));
            using var body = JsonDocument.Parse(request.Body);
            Assert.Equal("vertex-2023-10-16", body.RootElement.GetProperty("anthropic_version").GetString());
            Assert.False(body.RootElement.TryGetProperty("model", out _)); // the URL names it
        }
        using var first = JsonDocument.Parse(sent[0].Body);
        Assert.Equal("Be brief.", first.RootElement.GetProperty("system").GetString());
        Assert.Equal(4096, first.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal(1, env.Fetches); // one token for all five calls
        env.VerifyAssertions();
    }

    [Fact]
    public async Task MetadataServer_GlobalEndpoint_PlainAndStreamed_ClientBetaHeaderPassedOn()
    {
        await using var env = await VertexEnv.StartMetadataAsync(region: "global", publisher: "anthropic");
        var chat = AnthropicSdkScenarios.Chat(env.Gateway.BaseUrl);

        await AnthropicSdkScenarios.PlainAsync(chat, env.Vertex);
        var streamed = await AnthropicSdkScenarios.StreamingAsync(chat, env.Vertex);
        using var beta = env.Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Chat);
        beta.Headers.Add("anthropic-beta", "context-1m-2025-08-07");
        env.Vertex.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);
        using var response = await env.Gateway.Client.SendAsync(beta);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(VertexEnv.ClaudePath("global", "rawPredict"), env.Vertex.Requests.First().Path);
        Assert.Equal(VertexEnv.ClaudePath("global", "streamRawPredict"), streamed.Path);
        Assert.Equal("context-1m-2025-08-07", env.Vertex.Requests.Last().Headers["anthropic-beta"]);
        Assert.All(env.Vertex.Requests, r => Assert.Equal("Bearer " + VertexEnv.Token(1), r.Headers["Authorization"]));
        Assert.Equal("Google", (await env.Auth.FirstRequest()).Headers["Metadata-Flavor"]);
    }

    [Fact]
    public async Task VertexFrontEnd403_IsGoogleShaped_Becomes502UpstreamAuthFailed()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: "us-east5", publisher: "anthropic");
        env.Vertex.Handler = ctx => Upstream.Json(ctx, 403, GeminiUpstream.GoogleError(403, "PERMISSION_DENIED",
            "Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/test-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929'."));

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Chat);

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", "upstream_auth_failed", messageContains: "Permission 'aiplatform.endpoints.predict' denied");
    }

    [Fact]
    public async Task ClaudeOverloaded529_IsAnthropicShaped_Becomes503WithRetryAfter()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: "us-east5", publisher: "anthropic");
        env.Vertex.Handler = ctx => AnthropicUpstream.Error(ctx, 529, "overloaded_error", "Overloaded", ("retry-after", "3"));

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"claude-test","stream":true,"messages":[{"role":"user","content":"hello"}]}""");

        await Assertions.AssertOpenAiError(response, 503, "upstream_error", "upstream_overloaded", messageContains: "Overloaded");
        Assert.Equal("3", response.Headers.RetryAfter?.ToString());
        Assert.Equal(VertexEnv.ClaudePath("us-east5", "streamRawPredict"), (await env.Vertex.FirstRequest()).Path);
    }

    [Fact]
    public async Task TokenEndpointRefuses_Is502UpstreamAuthFailed_AndNothingReachesVertex()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: "us-east5", publisher: "anthropic");
        env.Auth.Handler = ctx => Upstream.Json(ctx, 400, """{"error":"invalid_grant","error_description":"Invalid JWT Signature."}""");

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Chat);

        await Assertions.AssertOpenAiError(response, 502, "upstream_error", "upstream_auth_failed", messageContains: "invalid_grant: Invalid JWT Signature.");
        Assert.Empty(env.Vertex.Requests);
    }
}
