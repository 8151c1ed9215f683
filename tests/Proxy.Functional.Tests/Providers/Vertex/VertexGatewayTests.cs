using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Gemini;

namespace Proxy.Functional.Tests.Providers.Vertex;

/// <summary>
/// The real gateway in front of a fake Vertex AI, authenticated with a service-account key (JWT exchanged at a fake
/// token endpoint) or the metadata server (a fake): URLs, bearer tokens, the token cache, and the OpenAI SDK unchanged.
/// </summary>
public sealed class VertexGatewayTests
{
    [Fact]
    public async Task ServiceAccount_PlainAndStreamed_BearerTokenFetchedOnce()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync();
        var chat = GoogleSdkScenarios.Chat(env.Gateway.BaseUrl);

        await GoogleSdkScenarios.PlainAsync(chat, env.Vertex);
        await GoogleSdkScenarios.StreamingAsync(chat, env.Vertex);

        var sent = env.Vertex.Requests.ToList();
        Assert.Equal(VertexEnv.ModelPath("us-central1", "generateContent"), sent[0].Path);
        Assert.Equal(VertexEnv.ModelPath("us-central1", "streamGenerateContent"), sent[1].Path);
        Assert.All(sent, r => Assert.Equal("Bearer " + VertexEnv.Token(1), r.Headers["Authorization"]));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("x-goog-api-key")));
        using var body = JsonDocument.Parse(sent[0].Body);
        Assert.Equal("Be brief.", body.RootElement.GetProperty("systemInstruction").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal(1, env.Fetches); // cached across requests
        env.VerifyAssertions();
    }

    [Fact]
    public async Task ServiceAccount_ToolCalls_PlainAndStreamed()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: "europe-west4");
        var chat = GoogleSdkScenarios.Chat(env.Gateway.BaseUrl);

        await GoogleSdkScenarios.ToolCallRoundTripAsync(chat, env.Vertex);
        await GoogleSdkScenarios.StreamingToolCallsAsync(chat, env.Vertex);

        Assert.All(env.Vertex.Requests, r => Assert.StartsWith("/v1/projects/test-project/locations/europe-west4/publishers/google/models/", r.Path, StringComparison.Ordinal));
        Assert.Equal(1, env.Fetches);
    }

    [Fact]
    public async Task MetadataServer_PlainStreamedAndToolCalls_GlobalEndpoint()
    {
        await using var env = await VertexEnv.StartMetadataAsync(region: "global");
        var chat = GoogleSdkScenarios.Chat(env.Gateway.BaseUrl);

        await GoogleSdkScenarios.PlainAsync(chat, env.Vertex);
        await GoogleSdkScenarios.StreamingAsync(chat, env.Vertex);
        await GoogleSdkScenarios.ToolCallRoundTripAsync(chat, env.Vertex);

        var sent = env.Vertex.Requests.ToList();
        Assert.Equal(VertexEnv.ModelPath("global", "generateContent"), sent[0].Path);
        Assert.Equal(VertexEnv.ModelPath("global", "streamGenerateContent"), sent[1].Path);
        Assert.All(sent, r => Assert.Equal("Bearer " + VertexEnv.Token(1), r.Headers["Authorization"]));
        Assert.Equal(1, env.Fetches);
        var metadata = await env.Auth.FirstRequest();
        Assert.Equal("GET", metadata.Method);
        Assert.Equal("Google", metadata.Headers["Metadata-Flavor"]);
    }

    [Fact]
    public async Task TokenEndpointRefuses_Is502UpstreamAuthFailed_AndNothingReachesVertex()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync();
        env.Auth.Handler = ctx => Upstream.Json(ctx, 400, """{"error":"invalid_grant","error_description":"Invalid JWT Signature."}""");

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","messages":[{"role":"user","content":"hello"}]}""");

        var error = await Assertions.AssertOpenAiError(response, 502, "upstream_error", "upstream_auth_failed", messageContains: "invalid_grant: Invalid JWT Signature.");
        Assert.DoesNotContain("PRIVATE KEY", Assertions.Message(error), StringComparison.Ordinal);
        Assert.Empty(env.Vertex.Requests);
    }

    [Fact]
    public async Task Vertex401_DropsTheToken_NextRequestGetsANewOne()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync();
        int calls = 0;
        env.Vertex.Handler = ctx => Interlocked.Increment(ref calls) == 1
            ? Upstream.Json(ctx, 401, GeminiUpstream.GoogleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
            : Upstream.Json(ctx, 200, GeminiUpstream.Text("ok"));

        using var first = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","messages":[{"role":"user","content":"hello"}]}""");
        using var second = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"flash","messages":[{"role":"user","content":"hello"}]}""");

        await Assertions.AssertOpenAiError(first, 502, "upstream_error", "upstream_auth_failed", messageContains: "invalid authentication credentials");
        Assert.Equal(200, (int)second.StatusCode);
        var sent = env.Vertex.Requests.ToList();
        Assert.Equal("Bearer " + VertexEnv.Token(1), sent[0].Headers["Authorization"]);
        Assert.Equal("Bearer " + VertexEnv.Token(2), sent[1].Headers["Authorization"]);
        Assert.Equal(2, env.Fetches);
    }

    [Fact]
    public async Task ServiceAccount_Embeddings_Predict()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync();

        await GoogleSdkScenarios.EmbeddingsAsync(GoogleSdkScenarios.Embeddings(env.Gateway.BaseUrl), env.Vertex, predict: true);

        var sent = env.Vertex.Requests.Single();
        Assert.Equal(VertexEnv.ModelPath("us-central1", "predict"), sent.Path);
        Assert.Equal("Bearer " + VertexEnv.Token(1), sent.Headers["Authorization"]);
    }
}
