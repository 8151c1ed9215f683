using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Proxy.Config;
using Proxy.Providers.Tests.Anthropic;
using Proxy.Providers.Tests.Common;
using Proxy.Providers.Vertex;

namespace Proxy.Providers.Tests.Vertex;

/// <summary>
/// Claude on Vertex AI: the request Anthropic's translation makes, with the model moved to the URL and the Vertex
/// anthropic_version in the body; answers and streams through the same translation (the Anthropic fixtures); errors
/// from either layer, Vertex's front end (google.rpc.Status) or Claude behind it (Anthropic's shape).
/// </summary>
public class AnthropicVertexTests
{
    private const string Model = "claude-sonnet-4-5@20250929";
    private const string Name = "vertex-claude";

    private static AnthropicVertexAdapter Adapter(string region = "us-east5", int defaultMaxTokens = 4096)
    {
        var settings = new ProviderSettings { Name = Name, Type = "vertex", BaseUrl = VertexLocation.GlobalBaseUrl };
        return new AnthropicVertexAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()),
            new VertexLocation(VertexLocation.GlobalBaseUrl, "my-proj", region), defaultMaxTokens);
    }

    private static (HttpRequestMessage Request, string Body) Build(string openAiBody, AnthropicVertexAdapter? adapter = null, IHeaderDictionary? clientHeaders = null)
    {
        adapter ??= Adapter();
        var request = adapter.BuildRequest(AnthropicTestSupport.Call(adapter, Encoding.UTF8.GetBytes(openAiBody), Model, clientHeaders));
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("options")]
    [InlineData("tools")]
    [InlineData("images")]
    public void Request_IsAnthropicsBody_WithoutModel_WithTheVertexVersion(string name)
    {
        var (_, body) = Build(Fixture.Text("Anthropic", name + ".openai.json"));

        // The Anthropic fixture with the two differences Vertex documents, and nothing else.
        var expected = JsonNode.Parse(Fixture.Text("Anthropic", name + ".anthropic.json"))!.AsObject();
        expected.Remove("model");
        expected["anthropic_version"] = "vertex-2023-10-16";
        Fixture.JsonEqual(expected.ToJsonString(), body);
    }

    [Fact]
    public void Request_Stream_ExactBody_ToStreamRawPredict()
    {
        var (request, body) = Build(Fixture.Text("Vertex", "stream.openai.json"), Adapter(defaultMaxTokens: 1000));

        Fixture.JsonEqual(Fixture.Text("Vertex", "stream.anthropic-vertex.json"), body);
        Assert.Equal("https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
            request.RequestUri!.ToString());
        Assert.Equal("text/event-stream", Assert.Single(request.Headers.GetValues("Accept")));
    }

    [Theory]
    [InlineData("us-east5", "https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")]
    [InlineData("global", "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")]
    [InlineData("eu", "https://aiplatform.eu.rep.googleapis.com/v1/projects/my-proj/locations/eu/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")]
    public void Request_Plain_GoesToRawPredict_WithNoCredentialOrVersionHeader(string region, string url)
    {
        var client = new HeaderDictionary
        {
            ["anthropic-beta"] = "context-1m-2025-08-07",
            ["Authorization"] = "Bearer sk-gw-the-gateway-key",
        };
        var (request, body) = Build("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""", Adapter(region), client);

        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(url, request.RequestUri!.ToString());
        // The bearer token is the GoogleAuthHandler's to add when the request is sent; the gateway key never goes upstream.
        Assert.False(request.Headers.Contains("Authorization"));
        Assert.False(request.Headers.Contains("x-api-key"));
        Assert.False(request.Headers.Contains("anthropic-version"));
        // Vertex takes beta features as Anthropic's API does, in the header (and refuses the ones it lacks with a 400).
        Assert.Equal("context-1m-2025-08-07", Assert.Single(request.Headers.GetValues("anthropic-beta")));
        Assert.DoesNotContain("\"model\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"stream\"", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text.message.json", "text.openai.json")]
    [InlineData("tool-use.message.json", "tool-use.openai.json")]
    public void Response_IsTranslatedAsAnthropics(string answer, string expected)
    {
        var adapter = Adapter();
        var call = AnthropicTestSupport.Call(adapter, """{"model":"c","messages":[]}"""u8.ToArray(), Model);
        var output = new ArrayBufferWriter<byte>();
        var usage = default(Usage);

        adapter.TranscodeResponse(Fixture.Bytes("Anthropic", answer), call, output, ref usage);

        Fixture.JsonEqual(Fixture.Text("Anthropic", expected), Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.True(usage.Reported);
    }

    [Theory]
    [InlineData("text.stream.sse", "text.stream.openai.sse")]
    [InlineData("tool-use.stream.sse", "tool-use.stream.openai.sse")]
    [InlineData("error.stream.sse", "error.stream.openai.sse")]
    public void Stream_IsTranscodedAsAnthropics_AtEveryOffset(string stream, string expected)
    {
        var adapter = Adapter();
        var call = AnthropicTestSupport.Call(adapter, """{"model":"c","stream":true,"stream_options":{"include_usage":true},"messages":[]}"""u8.ToArray(), Model);

        var (output, state) = Rechunk.EveryOffset(() => adapter.CreateStreamTranscoder(call), Fixture.Bytes("Anthropic", stream));

        Assert.Equal(Fixture.Text("Anthropic", expected).Replace("Upstream 'anthropic'", $"Upstream '{Name}'", StringComparison.Ordinal), output);
        Assert.True(state.Completed || state.Failed);
    }

    [Theory]
    // Vertex's front end, in google.rpc.Status.
    [InlineData(403, """{"error":{"code":403,"message":"Permission 'aiplatform.endpoints.predict' denied on resource.","status":"PERMISSION_DENIED"}}""",
        502, "upstream_auth_failed", false, "Permission 'aiplatform.endpoints.predict' denied")]
    [InlineData(429, """{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.","status":"RESOURCE_EXHAUSTED"}}""",
        429, "rate_limit_exceeded", true, "Quota exceeded")]
    [InlineData(404, """{"error":{"code":404,"message":"Publisher Model `claude-9@1` was not found.","status":"NOT_FOUND"}}""",
        404, "model_not_found", false, "was not found")]
    // Claude behind it, in Anthropic's shape (it also has an object under "error").
    [InlineData(529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_vrtx_011"}""",
        503, "upstream_overloaded", true, "Overloaded")]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"Unexpected value(s) `x-2099` for the `anthropic-beta` header."}}""",
        400, null, false, "anthropic-beta")]
    [InlineData(502, "<html>Bad Gateway</html>", 502, "upstream_error", true, "HTTP 502")]
    public void Error_EachLayer_IsClassifiedByItsOwnShape(int status, string body, int clientStatus, string? code, bool retryable, string says)
    {
        var failure = Adapter().ClassifyError(status, Encoding.UTF8.GetBytes(body));

        Assert.Equal((clientStatus, code, retryable), (failure.Status, failure.Code, failure.Retryable));
        Assert.Contains(says, failure.Message, StringComparison.Ordinal);
    }
}
