using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Anthropic;
using Proxy.Functional.Tests.Providers.Gemini;
using Proxy.Functional.Tests.Providers.Vertex;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The npm Anthropic SDK and the npm OpenAI SDK's Responses API, unchanged, through the gateway to a fake Vertex AI:
/// a Gemini model (translated for both clients), and a Claude model, which Anthropic clients reach as a passthrough
/// (the client's body, its model moved to the URL and Vertex's anthropic_version added) and Responses clients translated.
/// </summary>
public sealed class VertexClientApiTests
{
    private const string Gemini = "flash";
    private const string Claude = "claude-test";
    private const string Region = "us-east5";

    /// <summary>Claude's answers in Anthropic's format: text, or a tool call until its result comes back; plain or streamed.</summary>
    private static Task ClaudeAnswers(HttpContext ctx)
    {
        var recorded = FakeUpstream.Recorded(ctx);
        bool tools = recorded.BodyText.Contains("\"tools\"", StringComparison.Ordinal);
        bool answered = recorded.BodyText.Contains("\"tool_result\"", StringComparison.Ordinal);
        if (recorded.Path.EndsWith(":streamRawPredict", StringComparison.Ordinal))
            return Upstream.Sse(ctx, tools && !answered ? AnthropicUpstream.ToolStream : AnthropicUpstream.TextStream);
        return Upstream.Json(ctx, 200, tools && !answered ? AnthropicUpstream.ToolUseMessage : AnthropicUpstream.TextMessage);
    }

    [Fact]
    public async Task GeminiModel_BothSdks_PlainStreamedAndToolRoundTrip()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: Region);
        env.Vertex.Handler = GeminiClientApiTests.Answers();

        var plain = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Gemini);
        Assert.Equal("Hello from Gemini é ✓", plain.GetProperty("text").GetString());
        ClientSdk.AssertMessageUsage(plain, input: 9, cacheRead: 0, output: 4);
        ClientSdk.AssertMessageStream(await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream", env.Gateway, Gemini), "Hello");
        var tools = await ClientSdk.OkAsync(ClientSdk.Anthropic, "tools", env.Gateway, Gemini);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.ToolUses(tools.GetProperty("first")));
        Assert.Equal("Hello from Gemini é ✓", tools.GetProperty("second").GetProperty("text").GetString());

        var response = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Gemini);
        Assert.Equal("Hello from Gemini é ✓", response.GetProperty("output_text").GetString());
        ClientSdk.AssertResponseStream(await ClientSdk.OkAsync(ClientSdk.Responses, "stream", env.Gateway, Gemini), "Hello");
        var functions = await ClientSdk.OkAsync(ClientSdk.Responses, "tools", env.Gateway, Gemini);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.FunctionCalls(functions.GetProperty("first")));
        Assert.Equal("Hello from Gemini é ✓", functions.GetProperty("second").GetProperty("output_text").GetString());

        var sent = env.Vertex.Requests.ToList();
        Assert.Equal(8, sent.Count);
        Assert.Equal(VertexEnv.ModelPath(Region, "generateContent"), sent[0].Path);
        Assert.Equal(VertexEnv.ModelPath(Region, "streamGenerateContent"), sent[1].Path);
        Assert.All(sent, r => Assert.Equal("Bearer " + VertexEnv.Token(1), r.Headers["Authorization"]));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("x-api-key")));
        Assert.Contains("\"functionResponse\"", sent[3].BodyText, StringComparison.Ordinal);
        Assert.Contains("\"functionResponse\"", sent[7].BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GeminiModel_CachedTokens_AndAGoogleErrorInEachClientsShape()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: Region);
        env.Vertex.Handler = ctx => Upstream.Json(ctx, 200, GeminiClientApiTests.CachedAnswer);

        ClientSdk.AssertMessageUsage(await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Gemini), input: 176, cacheRead: 1024, output: 5);
        ClientSdk.AssertResponseUsage(await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Gemini), input: 1200, cached: 1024, output: 5);

        env.Vertex.Handler = ctx => Upstream.Json(ctx, 400, GeminiUpstream.GoogleError(400, "INVALID_ARGUMENT", "Request contains an invalid argument."));
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "plain", env.Gateway, Gemini, 400, "invalid_request_error", "Request contains an invalid argument.");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "stream", env.Gateway, Gemini, 400, "invalid_request_error", "Request contains an invalid argument.");
    }

    [Fact]
    public async Task ClaudeModel_AnthropicSdk_PassesThroughWithoutModel_WithVertexAnthropicVersion()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: Region, publisher: "anthropic");
        env.Vertex.Handler = ClaudeAnswers;

        var plain = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Claude);
        Assert.Equal(("msg_01", "Hello from Claude é ✓"), (plain.GetProperty("id").GetString(), plain.GetProperty("text").GetString()));
        ClientSdk.AssertMessageUsage(plain, input: 9, cacheRead: 4, output: 6); // Claude's own counts, untouched

        var stream = await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream", env.Gateway, Claude);
        ClientSdk.AssertMessageStream(stream, "Hello");
        Assert.Equal("msg_03", stream.GetProperty("id").GetString());

        var tools = await ClientSdk.OkAsync(ClientSdk.Anthropic, "tools", env.Gateway, Claude);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.ToolUses(tools.GetProperty("first")));
        Assert.Equal("toolu_01", tools.GetProperty("first").GetProperty("tools")[0].GetProperty("id").GetString());
        Assert.Equal("Hello from Claude é ✓", tools.GetProperty("second").GetProperty("text").GetString());

        var sent = env.Vertex.Requests.ToList();
        Assert.Equal(4, sent.Count);
        Assert.Equal(VertexEnv.ClaudePath(Region, "rawPredict"), sent[0].Path);
        Assert.Equal(VertexEnv.ClaudePath(Region, "streamRawPredict"), sent[1].Path);
        foreach (var request in sent)
        {
            Assert.Equal("Bearer " + VertexEnv.Token(1), request.Headers["Authorization"]);
            Assert.False(request.Headers.ContainsKey("x-api-key")); // the SDK sent the gateway key there
            using var body = JsonDocument.Parse(request.Body);
            Assert.False(body.RootElement.TryGetProperty("model", out _)); // the URL names it
            Assert.Equal("vertex-2023-10-16", body.RootElement.GetProperty("anthropic_version").GetString());
        }
        // The client's body otherwise, as the SDK wrote it.
        using (var first = JsonDocument.Parse(sent[0].Body))
        {
            Assert.Equal(["anthropic_version", "max_tokens", "messages"], first.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(100, first.RootElement.GetProperty("max_tokens").GetInt32());
            Assert.Equal("""[{"role":"user","content":"Say hello"}]""", first.RootElement.GetProperty("messages").GetRawText());
        }
        using (var streamed = JsonDocument.Parse(sent[1].Body)) Assert.True(streamed.RootElement.GetProperty("stream").GetBoolean());
        using (var result = JsonDocument.Parse(sent[3].Body))
        {
            var content = result.RootElement.GetProperty("messages")[2].GetProperty("content")[0];
            Assert.Equal(("tool_result", "toolu_01"), (content.GetProperty("type").GetString(), content.GetProperty("tool_use_id").GetString()));
        }
    }

    [Fact]
    public async Task ClaudeModel_AnthropicSdk_ErrorsKeepTheirShape_529StaysOverloaded()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: Region, publisher: "anthropic");
        env.Vertex.Handler = ctx => AnthropicUpstream.Error(ctx, 529, "overloaded_error", "Overloaded");

        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "plain", env.Gateway, Claude, 529, "overloaded_error", "Overloaded");
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "stream", env.Gateway, Claude, 529, "overloaded_error", "Overloaded");

        // Vertex's front end answers in Google's shape; the client still gets Anthropic's.
        env.Vertex.Handler = ctx => Upstream.Json(ctx, 403, GeminiUpstream.GoogleError(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied."));
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "plain", env.Gateway, Claude, 502, "api_error", "Permission 'aiplatform.endpoints.predict' denied.");
    }

    [Fact]
    public async Task ClaudeModel_ResponsesSdk_TranslatedPlainStreamedToolsAndErrors()
    {
        await using var env = await VertexEnv.StartServiceAccountAsync(region: Region, publisher: "anthropic");
        env.Vertex.Handler = ClaudeAnswers;

        var plain = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Claude);
        Assert.Equal("Hello from Claude é ✓", plain.GetProperty("output_text").GetString());
        ClientSdk.AssertResponseUsage(plain, input: 13, cached: 4, output: 6); // Claude's 9 uncached + 4 cache reads
        ClientSdk.AssertResponseStream(await ClientSdk.OkAsync(ClientSdk.Responses, "stream", env.Gateway, Claude), "Hello");

        var tools = await ClientSdk.OkAsync(ClientSdk.Responses, "tools", env.Gateway, Claude);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.FunctionCalls(tools.GetProperty("first")));
        Assert.Equal("Hello from Claude é ✓", tools.GetProperty("second").GetProperty("output_text").GetString());
        Assert.Contains("\"tool_use_id\":\"toolu_01\"", env.Vertex.Requests.Last().BodyText, StringComparison.Ordinal);
        var streamed = await ClientSdk.OkAsync(ClientSdk.Responses, "stream_tools", env.Gateway, Claude);
        Assert.Equal([("get_weather", "Rome")], ClientSdk.FunctionCalls(streamed));
        Assert.Equal("{\"city\": \"Rome\"}", streamed.GetProperty("argument_deltas").GetString());

        var sent = env.Vertex.Requests.ToList();
        Assert.Equal(VertexEnv.ClaudePath(Region, "rawPredict"), sent[0].Path);
        Assert.Equal(VertexEnv.ClaudePath(Region, "streamRawPredict"), sent[1].Path);
        using (var body = JsonDocument.Parse(sent[0].Body))
        {
            Assert.Equal("vertex-2023-10-16", body.RootElement.GetProperty("anthropic_version").GetString());
            Assert.False(body.RootElement.TryGetProperty("model", out _));
            Assert.Equal("Be brief.", body.RootElement.GetProperty("system").GetString());
        }

        env.Vertex.Handler = ctx => AnthropicUpstream.Error(ctx, 529, "overloaded_error", "Overloaded");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "plain", env.Gateway, Claude, 503, null, "Overloaded");
    }
}
