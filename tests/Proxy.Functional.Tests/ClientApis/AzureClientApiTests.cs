using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.AzureOpenAI;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The npm Anthropic SDK and the npm OpenAI SDK's Responses API, unchanged, through the gateway to a fake Azure OpenAI
/// resource: Anthropic clients translated to the deployment's chat completions; Responses clients passed through to
/// the resource's v1 Responses API (Azure keeps the conversation, so previous_response_id goes up as it is).
/// </summary>
public sealed class AzureClientApiTests
{
    private const string Route = "azure-gpt";
    private const string ChatPath = "/openai/deployments/gpt-4o-prod/chat/completions";
    private const string ResponsesPath = "/openai/v1/responses";

    private static Task<TestEnv> StartAsync() => TestEnv.StartAsync(AzureUpstream.ApiKey);

    /// <summary>A chat answer whose prompt (2006 tokens) had 1920 read from Azure's prompt cache.</summary>
    private const string CachedCompletion = """{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"Hello again","role":"assistant"}}],"created":1700000000,"id":"chatcmpl-azc","model":"gpt-4o-2024-11-20","object":"chat.completion","usage":{"completion_tokens":3,"prompt_tokens":2006,"prompt_tokens_details":{"cached_tokens":1920},"total_tokens":2009}}""";

    private static string Response(string id, string output, int input = 12, int cached = 0, int outputTokens = 3) => $$$"""
        {"id":"{{{id}}}","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-4o-2024-11-20","output":[{{{output}}}],"parallel_tool_calls":true,"previous_response_id":null,"store":true,"temperature":1.0,"tool_choice":"auto","tools":[],"top_p":1.0,"usage":{"input_tokens":{{{input}}},"input_tokens_details":{"cached_tokens":{{{cached}}}},"output_tokens":{{{outputTokens}}},"output_tokens_details":{"reasoning_tokens":0},"total_tokens":{{{input + outputTokens}}}},"metadata":{}}
        """.Trim();

    private static string Message(string id, string text) =>
        $$"""{"type":"message","id":"{{id}}","status":"completed","role":"assistant","content":[{"type":"output_text","text":{{JsonSerializer.Serialize(text)}},"annotations":[]}]}""";

    private const string FunctionCall = """{"type":"function_call","id":"fc_az_1","status":"completed","call_id":"call_az1","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}""";

    private static string Event(int sequence, string type, string fields) =>
        $"event: {type}\ndata: {{\"type\":\"{type}\",\"sequence_number\":{sequence},{fields}}}\n\n";

    /// <summary>A Responses stream as Azure sends it: the response's lifecycle around one message with text in two deltas.</summary>
    private static string[] ResponseStream()
    {
        const string item = "\"item_id\":\"msg_az_s\",\"output_index\":0,\"content_index\":0";
        var created = Response("resp_az_s", "").Replace("\"status\":\"completed\"", "\"status\":\"in_progress\"", StringComparison.Ordinal);
        return
        [
            Event(0, "response.created", $"\"response\":{created}"),
            Event(1, "response.output_item.added", "\"output_index\":0,\"item\":" + """{"type":"message","id":"msg_az_s","status":"in_progress","role":"assistant","content":[]}"""),
            Event(2, "response.content_part.added", item + ""","part":{"type":"output_text","text":"","annotations":[]}"""),
            Event(3, "response.output_text.delta", item + ""","delta":"Hej","logprobs":[]"""),
            Event(4, "response.output_text.delta", item + ""","delta":" fra Azure","logprobs":[]"""),
            Event(5, "response.output_text.done", item + ""","text":"Hej fra Azure","logprobs":[]"""),
            Event(6, "response.content_part.done", item + ""","part":{"type":"output_text","text":"Hej fra Azure","annotations":[]}"""),
            Event(7, "response.output_item.done", $"\"output_index\":0,\"item\":{Message("msg_az_s", "Hej fra Azure")}"),
            Event(8, "response.completed", $"\"response\":{Response("resp_az_s", Message("msg_az_s", "Hej fra Azure"))}"),
        ];
    }

    /// <summary>Chat completions for the deployment, and the v1 Responses API: text, or a tool call until its result comes back.</summary>
    private static Task Answers(HttpContext ctx)
    {
        var recorded = FakeUpstream.Recorded(ctx);
        var body = recorded.BodyText;
        bool stream = body.Contains("\"stream\":true", StringComparison.Ordinal);
        if (recorded.Path == ResponsesPath)
        {
            if (stream) return Upstream.Sse(ctx, ResponseStream());
            if (body.Contains("\"function_call_output\"", StringComparison.Ordinal)) return Upstream.Json(ctx, 200, Response("resp_az_t2", Message("msg_az_t2", "Oslo: 18C and sunny")));
            if (body.Contains("\"tools\"", StringComparison.Ordinal)) return Upstream.Json(ctx, 200, Response("resp_az_t1", FunctionCall));
            return Upstream.Json(ctx, 200, Response("resp_az_1", Message("msg_az_1", "Hello from Azure é ✓")));
        }
        bool tools = body.Contains("\"tools\"", StringComparison.Ordinal) && !body.Contains("\"role\":\"tool\"", StringComparison.Ordinal);
        if (stream) return Upstream.Sse(ctx, AzureUpstream.Stream);
        return Upstream.Json(ctx, 200, tools ? AzureUpstream.ToolCompletion : AzureUpstream.Completion);
    }

    [Fact]
    public async Task AnthropicSdk_TranslatedToTheDeploymentsChat_PlainStreamedAndToolRoundTrip()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = Answers;

        var plain = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route);
        Assert.Equal("Hello from Azure", plain.GetProperty("text").GetString());
        Assert.Equal("end_turn", plain.GetProperty("stop_reason").GetString());
        ClientSdk.AssertMessageUsage(plain, input: 8, cacheRead: 0, output: 3);

        var stream = await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream", env.Gateway, Route);
        ClientSdk.AssertMessageStream(stream, "Hej"); // Azure's leading prompt_filter_results chunk has no choices
        ClientSdk.AssertMessageUsage(stream, input: 7, cacheRead: 0, output: 1);

        var tools = await ClientSdk.OkAsync(ClientSdk.Anthropic, "tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Oslo")], ClientSdk.ToolUses(tools.GetProperty("first")));
        Assert.Equal("call_az1", tools.GetProperty("first").GetProperty("tools")[0].GetProperty("id").GetString());
        Assert.Equal("Hello from Azure", tools.GetProperty("second").GetProperty("text").GetString());

        var sent = env.Upstream.Requests.ToList();
        Assert.Equal(4, sent.Count);
        Assert.All(sent, r => Assert.Equal((ChatPath, "?api-version=2024-10-21"), (r.Path, r.Query)));
        Assert.All(sent, r => Assert.Equal(TestKeys.UpstreamSecret, r.Headers["api-key"]));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("x-api-key") || r.Headers.ContainsKey("Authorization")));
        using var streamed = JsonDocument.Parse(sent[1].Body);
        Assert.True(streamed.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Contains("\"tool_call_id\":\"call_az1\"", sent[3].BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnthropicSdk_CachedTokensAndRateLimit()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, CachedCompletion);

        ClientSdk.AssertMessageUsage(await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route), input: 86, cacheRead: 1920, output: 3);

        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, """{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded token rate limit of your current tier."}}""");
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route, 429, "rate_limit_error", "exceeded token rate limit");
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "stream", env.Gateway, Route, 429, "rate_limit_error", "exceeded token rate limit");
    }

    [Fact]
    public async Task ResponsesSdk_PassesThroughToTheV1ResponsesApi_PlainStreamedAndToolRoundTrip()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = Answers;

        var plain = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Route);
        Assert.Equal(("resp_az_1", "Hello from Azure é ✓"), (plain.GetProperty("id").GetString(), plain.GetProperty("output_text").GetString()));

        var stream = await ClientSdk.OkAsync(ClientSdk.Responses, "stream", env.Gateway, Route);
        ClientSdk.AssertResponseStream(stream, "Hej fra Azure");
        Assert.Equal("resp_az_s", stream.GetProperty("id").GetString());

        var tools = await ClientSdk.OkAsync(ClientSdk.Responses, "tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Oslo")], ClientSdk.FunctionCalls(tools.GetProperty("first")));
        Assert.Equal(("resp_az_t2", "Oslo: 18C and sunny"), (tools.GetProperty("second").GetProperty("id").GetString(), tools.GetProperty("second").GetProperty("output_text").GetString()));

        var sent = env.Upstream.Requests.ToList();
        Assert.Equal(4, sent.Count);
        Assert.All(sent, r => Assert.Equal((ResponsesPath, ""), (r.Path, r.Query)));
        Assert.All(sent, r => Assert.Equal(TestKeys.UpstreamSecret, r.Headers["api-key"]));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("Authorization"))); // the SDK's bearer is the gateway key
        foreach (var request in sent)
        {
            using var body = JsonDocument.Parse(request.Body);
            Assert.Equal("gpt-4o-prod", body.RootElement.GetProperty("model").GetString()); // the deployment
        }
        using (var first = JsonDocument.Parse(sent[0].Body))
        {
            Assert.Equal("Be brief.", first.RootElement.GetProperty("instructions").GetString());
            Assert.Equal("Say hello", first.RootElement.GetProperty("input").GetString());
        }
        // Azure holds the first turn: the continuation goes up by its id, not replayed by the gateway.
        using var continuation = JsonDocument.Parse(sent[3].Body);
        Assert.Equal("resp_az_t1", continuation.RootElement.GetProperty("previous_response_id").GetString());
        Assert.Equal("call_az1", continuation.RootElement.GetProperty("input")[0].GetProperty("call_id").GetString());
    }

    [Fact]
    public async Task ResponsesSdk_CachedTokensAndErrorsPassThrough()
    {
        await using var env = await StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Response("resp_az_c", Message("msg_az_c", "Hello again"), input: 2006, cached: 1920));

        var cached = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Route);
        ClientSdk.AssertResponseUsage(cached, input: 2006, cached: 1920, output: 3);

        env.Upstream.Handler = ctx => Upstream.Json(ctx, 400, """{"error":{"message":"Invalid value: 'input_textt'. Supported values are: 'input_text', 'input_image', 'output_text'.","type":"invalid_request_error","param":"input[0].content[0]","code":"invalid_value"}}""");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "plain", env.Gateway, Route, 400, "invalid_request_error", "Invalid value: 'input_textt'");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "stream", env.Gateway, Route, 400, "invalid_request_error", "Invalid value: 'input_textt'");

        var records = await ClientSdk.RecordsAsync(env.Gateway, "responses");
        ClientSdk.AssertRecordUsage(Assert.Single(records), prompt: 2006, cached: 1920, completion: 3);
    }
}
