using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Gemini;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The npm Anthropic SDK (/v1/messages) and the npm OpenAI SDK's Responses API (/v1/responses), unchanged, through the
/// gateway to a fake Gemini API (provider type gemini): every answer translated from Gemini's format into the client's.
/// </summary>
public sealed class GeminiClientApiTests
{
    private const string Route = "flash";

    private static Task<TestEnv> StartAsync() => TestEnv.StartAsync(url => GeminiUpstream.Config(GeminiUpstream.GeminiProvider(url), "gem"));

    /// <summary>Gemini with a cached prompt prefix: promptTokenCount (1200) already counts the 1024 cached tokens.</summary>
    internal const string CachedAnswer = """
        {"candidates": [{"content": {"parts": [{"text": "Hello again"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
         "usageMetadata": {"promptTokenCount": 1200, "cachedContentTokenCount": 1024, "candidatesTokenCount": 5, "totalTokenCount": 1205,
           "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 1024}]},
         "modelVersion": "gemini-2.5-flash", "responseId": "resp-cached"}
        """;

    /// <summary>Plain and streamed text, the tool call with its thought signature until a function response comes back.</summary>
    internal static Func<HttpContext, Task> Answers() => ctx =>
    {
        var recorded = FakeUpstream.Recorded(ctx);
        bool tools = recorded.BodyText.Contains("\"functionDeclarations\"", StringComparison.Ordinal);
        bool answered = recorded.BodyText.Contains("\"functionResponse\"", StringComparison.Ordinal);
        if (recorded.Path.EndsWith(":streamGenerateContent", StringComparison.Ordinal))
            return Upstream.Sse(ctx, tools && !answered ? GeminiUpstream.ToolStream : GeminiUpstream.TextStream);
        return Upstream.Json(ctx, 200, tools && !answered ? GeminiUpstream.ToolCall : GeminiUpstream.Text("Hello from Gemini é ✓"));
    };

    [Fact]
    public async Task AnthropicSdk_PlainAndStreamed()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = Answers();

        var plain = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route);
        Assert.Equal(("message", "assistant"), (plain.GetProperty("type").GetString(), plain.GetProperty("role").GetString()));
        Assert.Equal("Hello from Gemini é ✓", plain.GetProperty("text").GetString());
        Assert.Equal("end_turn", plain.GetProperty("stop_reason").GetString());
        Assert.Equal(GeminiUpstream.Model, plain.GetProperty("model").GetString());
        ClientSdk.AssertMessageUsage(plain, input: 9, cacheRead: 0, output: 4);

        var stream = await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream", env.Gateway, Route);
        ClientSdk.AssertMessageStream(stream, "Hello");
        Assert.Equal("end_turn", stream.GetProperty("stop_reason").GetString());
        ClientSdk.AssertMessageUsage(stream, input: 9, cacheRead: 0, output: 2);

        var sent = env.Upstream.Requests.ToList();
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", sent[0].Path);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent", sent[1].Path);
        Assert.All(sent, r => Assert.Equal(TestKeys.UpstreamSecret, r.Headers["x-goog-api-key"]));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("x-api-key"))); // the client's gateway key stays at the gateway
        using var body = JsonDocument.Parse(sent[0].Body);
        Assert.Equal("Say hello", body.RootElement.GetProperty("contents")[0].GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal(100, body.RootElement.GetProperty("generationConfig").GetProperty("maxOutputTokens").GetInt32());
    }

    [Fact]
    public async Task AnthropicSdk_ToolRoundTrip_SignatureComesBack_AndStreamedToolCalls()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = Answers();

        var run = await ClientSdk.OkAsync(ClientSdk.Anthropic, "tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.ToolUses(run.GetProperty("first")));
        Assert.Equal("tool_use", run.GetProperty("first").GetProperty("stop_reason").GetString());
        Assert.Equal("Hello from Gemini é ✓", run.GetProperty("second").GetProperty("text").GetString());
        // The replayed call carries Gemini 3's thought signature again, and the result goes up as a functionResponse.
        var second = env.Upstream.Requests.Last().BodyText;
        Assert.Contains("\"thoughtSignature\":\"c2lnLTE=\"", second, StringComparison.Ordinal);
        Assert.Contains("\"functionResponse\"", second, StringComparison.Ordinal);
        Assert.Contains("18C and sunny", second, StringComparison.Ordinal);

        var streamed = await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream_tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Paris"), ("get_weather", "Rome")], ClientSdk.ToolUses(streamed));
        Assert.Equal("tool_use", streamed.GetProperty("stop_reason").GetString());
        Assert.Equal(12, streamed.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task ResponsesSdk_PlainStreamedAndToolRoundTrip()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = Answers();

        var plain = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Route);
        Assert.Equal(("response", "completed"), (plain.GetProperty("object").GetString(), plain.GetProperty("status").GetString()));
        Assert.Equal("Hello from Gemini é ✓", plain.GetProperty("output_text").GetString());
        ClientSdk.AssertResponseUsage(plain, input: 9, cached: 0, output: 4);
        using (var body = JsonDocument.Parse(env.Upstream.Requests.First().Body))
            Assert.Equal("Be brief.", body.RootElement.GetProperty("systemInstruction").GetProperty("parts")[0].GetProperty("text").GetString());

        var stream = await ClientSdk.OkAsync(ClientSdk.Responses, "stream", env.Gateway, Route);
        ClientSdk.AssertResponseStream(stream, "Hello");

        var tools = await ClientSdk.OkAsync(ClientSdk.Responses, "tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.FunctionCalls(tools.GetProperty("first")));
        Assert.Equal("Hello from Gemini é ✓", tools.GetProperty("second").GetProperty("output_text").GetString());
        var second = env.Upstream.Requests.Last().BodyText; // the stored first turn, replayed by the gateway
        Assert.Contains("Weather in Paris?", second, StringComparison.Ordinal);
        Assert.Contains("\"thoughtSignature\":\"c2lnLTE=\"", second, StringComparison.Ordinal);
        Assert.Contains("\"functionResponse\"", second, StringComparison.Ordinal);

        var streamedTools = await ClientSdk.OkAsync(ClientSdk.Responses, "stream_tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Paris"), ("get_weather", "Rome")], ClientSdk.FunctionCalls(streamedTools));
        Assert.Contains("response.function_call_arguments.done", ClientSdk.Events(streamedTools));
    }

    [Fact]
    public async Task RateLimited_EachClientGets429InItsOwnErrorShape()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, GeminiUpstream.GoogleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."));

        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route, 429, "rate_limit_error", "Resource has been exhausted");
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "stream", env.Gateway, Route, 429, "rate_limit_error", "Resource has been exhausted");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "plain", env.Gateway, Route, 429, "rate_limit_error", "Resource has been exhausted");
    }

    [Fact]
    public async Task CachedTokens_InEachClientsConvention_AndNormalizedInTheRequestLog()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, CachedAnswer);

        var message = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route);
        ClientSdk.AssertMessageUsage(message, input: 176, cacheRead: 1024, output: 5);
        var response = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Route);
        ClientSdk.AssertResponseUsage(response, input: 1200, cached: 1024, output: 5);

        ClientSdk.AssertRecordUsage(Assert.Single(await ClientSdk.RecordsAsync(env.Gateway, "messages")), prompt: 1200, cached: 1024, completion: 5);
        var record = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory), r => r.GetProperty("client_api").GetString() == "responses");
        ClientSdk.AssertRecordUsage(record, prompt: 1200, cached: 1024, completion: 5);
        Assert.Equal(("gem", GeminiUpstream.Model), (record.GetProperty("provider").GetString(), record.GetProperty("upstream_model").GetString()));
    }
}
