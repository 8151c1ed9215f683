using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.Config;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Tests.Anthropic;
using Proxy.Providers.Tests.Common;
using Proxy.Providers.Vertex;

namespace Proxy.Providers.Tests.Vertex;

/// <summary>
/// A Messages client's request to Claude on Vertex AI: its bytes as sent, but the model taken out (the URL names it)
/// and Vertex's anthropic_version in its place, unless the client sent one; the answer passes through as from Anthropic.
/// </summary>
public class AnthropicVertexPassthroughTests
{
    private const string Model = "claude-sonnet-4-5@20250929";

    private static AnthropicVertexAdapter Adapter()
    {
        var settings = new ProviderSettings { Name = "vertex-claude", Type = "vertex", BaseUrl = VertexLocation.GlobalBaseUrl };
        return new AnthropicVertexAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()), new VertexLocation(VertexLocation.GlobalBaseUrl, "my-proj", "us-east5"), 4096);
    }

    private static (HttpRequestMessage Request, string Body) Build(string body, IHeaderDictionary? clientHeaders = null)
    {
        var adapter = Adapter();
        var request = adapter.BuildRequest(AnthropicTestSupport.MessagesCall(adapter, Encoding.UTF8.GetBytes(body), Model, clientHeaders));
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    [Fact]
    public void Request_TheModelPropertyBecomesTheVertexVersion_TheRestIsTheClientsBytes()
    {
        const string client =
            """{"max_tokens":1024,"model":"claude-opus","x_future_field":{"a":[1,2.50]},"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"h\u00e9llo"}],"stream":true}""";

        var (request, body) = Build(client, new HeaderDictionary { ["anthropic-version"] = "2023-06-01", ["anthropic-beta"] = "context-1m-2025-08-07" });

        Assert.Equal(client.Replace("\"model\":\"claude-opus\"", "\"anthropic_version\":\"vertex-2023-10-16\"", StringComparison.Ordinal), body);
        Assert.Equal(body.Length, request.Content!.Headers.ContentLength);
        Assert.Equal("https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
            request.RequestUri!.ToString());
        // Vertex takes the version in the body; the beta header as Anthropic's API does.
        Assert.False(request.Headers.Contains("anthropic-version"));
        Assert.Equal("context-1m-2025-08-07", Assert.Single(request.Headers.GetValues("anthropic-beta")));
    }

    [Theory]
    // The client's own anthropic_version is kept; the model goes with one comma, whichever side it is on.
    [InlineData("""{"anthropic_version":"vertex-2023-10-16","model":"m","max_tokens":1}""", """{"anthropic_version":"vertex-2023-10-16","max_tokens":1}""")]
    [InlineData("""{"model":"m", "anthropic_version":"v","max_tokens":1}""", """{ "anthropic_version":"v","max_tokens":1}""")]
    [InlineData("""{"max_tokens":1,"anthropic_version":"v","model":"m"}""", """{"max_tokens":1,"anthropic_version":"v"}""")]
    [InlineData("{\n  \"max_tokens\": 1,\n  \"model\" : \"m\",\n  \"anthropic_version\": \"v\"\n}", "{\n  \"max_tokens\": 1,\n  \"anthropic_version\": \"v\"\n}")]
    [InlineData("""{"m\u006fdel":"m","anthropic_version":"v"}""", """{"anthropic_version":"v"}""")]
    // The word elsewhere (a message, a nested key) is not the client's version.
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\"anthropic_version\" means?"}],"metadata":{"anthropic_version":"x"}}""",
        """{"anthropic_version":"vertex-2023-10-16","messages":[{"role":"user","content":"\"anthropic_version\" means?"}],"metadata":{"anthropic_version":"x"}}""")]
    // No model at all: the version goes first.
    [InlineData("""{"messages":[],"max_tokens":1}""", """{"anthropic_version":"vertex-2023-10-16","messages":[],"max_tokens":1}""")]
    [InlineData("""{ }""", """{"anthropic_version":"vertex-2023-10-16" }""")]
    public void Request_Body_IsSplicedForVertex(string client, string expected)
    {
        var (_, body) = Build(client);

        Assert.Equal(expected, body);
    }

    [Fact]
    public void Request_Plain_GoesToRawPredict()
    {
        var (request, _) = Build("""{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.EndsWith(":rawPredict", request.RequestUri!.ToString(), StringComparison.Ordinal);
        Assert.False(request.Headers.Contains("Accept"));
    }

    [Fact]
    public void Stream_PassesThroughAsFromAnthropic()
    {
        var adapter = Adapter();
        var call = AnthropicTestSupport.MessagesCall(adapter, """{"model":"c","stream":true,"messages":[]}"""u8.ToArray(), Model);
        var bytes = Fixture.Bytes("Anthropic", "thinking.stream.sse");

        var (output, state) = Rechunk.EveryOffset(() => adapter.CreateStreamTranscoder(call), bytes);

        Assert.Equal(Encoding.UTF8.GetString(bytes), output);
        Assert.True(state.Completed);
        Assert.Equal(130, state.Usage.CompletionTokens);
    }

    [Fact]
    public void Adapter_SpeaksMessages()
    {
        Assert.True(Adapter().Speaks(Proxy.ClientApis.ApiFormat.AnthropicMessages));
        Assert.IsType<AnthropicPassthroughTranscoder>(Adapter().CreateStreamTranscoder(
            AnthropicTestSupport.MessagesCall(Adapter(), """{"model":"c","stream":true,"messages":[]}"""u8.ToArray(), Model)));
    }
}
