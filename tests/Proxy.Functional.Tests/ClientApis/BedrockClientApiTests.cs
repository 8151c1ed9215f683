using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Bedrock;
using Proxy.Providers.Tests.Bedrock;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The npm Anthropic SDK and the npm OpenAI SDK's Responses API, unchanged, through the gateway to a fake Bedrock
/// Converse (a model that is not Claude) that checks every request's SigV4 signature: both clients translated from Converse, plain and streamed.
/// </summary>
public sealed class BedrockClientApiTests
{
    // Not a Claude model: Anthropic clients to Claude on Bedrock pass through InvokeModel (AnthropicSdkBedrockTests);
    // every other model is reached through Converse, which these tests are about.
    private const string Route = "nova";

    private sealed class Env : IAsyncDisposable
    {
        public required FakeBedrock Bedrock { get; init; }

        public required GatewayHost Gateway { get; init; }

        public static async Task<Env> StartAsync()
        {
            var bedrock = await FakeBedrock.StartAsync();
            bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
            try
            {
                return new Env { Bedrock = bedrock, Gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys())) };
            }
            catch
            {
                await bedrock.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Bedrock.DisposeAsync();
        }
    }

    /// <summary>Converse with a prompt cache: inputTokens (11) excludes the 1024 tokens read and the 61 written.</summary>
    private const string CachedAnswer = """
        {"output":{"message":{"role":"assistant","content":[{"text":"Hello again"}]}},"stopReason":"end_turn",
         "usage":{"inputTokens":11,"outputTokens":4,"totalTokens":1100,"cacheReadInputTokens":1024,"cacheWriteInputTokens":61},"metrics":{"latencyMs":90}}
        """;

    private const string ToolUse = """
        {"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_abc","name":"get_weather","input":{"city":"Paris"}}}]}},
         "stopReason":"tool_use","usage":{"inputTokens":50,"outputTokens":20,"totalTokens":70},"metrics":{"latencyMs":10}}
        """;

    /// <summary>A tool call streamed as Bedrock does: the id and name at the block's start, the input in string pieces.</summary>
    private static byte[][] ToolStream() =>
    [
        EventStreamEncoder.Event("messageStart", """{"p":"abcd","role":"assistant"}"""),
        EventStreamEncoder.Event("contentBlockStart", """{"contentBlockIndex":0,"p":"ab","start":{"toolUse":{"name":"get_weather","toolUseId":"tooluse_r1"}}}"""),
        EventStreamEncoder.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"city\":"}},"p":"abc"}"""),
        EventStreamEncoder.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"toolUse":{"input":"\"Rome\"}"}},"p":"abc"}"""),
        EventStreamEncoder.Event("contentBlockStop", """{"contentBlockIndex":0,"p":"abcdefg"}"""),
        EventStreamEncoder.Event("messageStop", """{"p":"ab","stopReason":"tool_use"}"""),
        EventStreamEncoder.Event("metadata", """{"metrics":{"latencyMs":200},"p":"abc","usage":{"inputTokens":40,"outputTokens":12,"totalTokens":52}}"""),
    ];

    /// <summary>Text, or a tool call until its result comes back; plain or streamed.</summary>
    private static Task Answers(BedrockCall call, HttpContext ctx)
    {
        var body = call.Body.GetRawText();
        bool tools = body.Contains("\"toolConfig\"", StringComparison.Ordinal);
        bool answered = body.Contains("\"toolResult\"", StringComparison.Ordinal);
        if (call.Operation == "converse-stream")
            return FakeBedrock.Stream(ctx, tools && !answered ? ToolStream() : FakeBedrock.TextStream("Hello", " from", " Bedrock"));
        return FakeBedrock.Converse(ctx, tools && !answered ? ToolUse : FakeBedrock.Text("Hello from Bedrock é ✓"));
    }

    [Fact]
    public async Task AnthropicSdk_PlainStreamedAndToolRoundTrip()
    {
        await using var env = await Env.StartAsync();
        env.Bedrock.Answer = Answers;

        var plain = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route);
        Assert.Equal("Hello from Bedrock é ✓", plain.GetProperty("text").GetString());
        Assert.Equal("end_turn", plain.GetProperty("stop_reason").GetString());
        Assert.Equal(BedrockConfig.NonClaudeModel, plain.GetProperty("model").GetString());
        ClientSdk.AssertMessageUsage(plain, input: 11, cacheRead: 0, output: 4);

        var stream = await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream", env.Gateway, Route);
        ClientSdk.AssertMessageStream(stream, "Hello from Bedrock");
        ClientSdk.AssertMessageUsage(stream, input: 11, cacheRead: 0, output: 3);

        var tools = await ClientSdk.OkAsync(ClientSdk.Anthropic, "tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.ToolUses(tools.GetProperty("first")));
        Assert.Equal("tooluse_abc", tools.GetProperty("first").GetProperty("tools")[0].GetProperty("id").GetString());
        Assert.Equal("tool_use", tools.GetProperty("first").GetProperty("stop_reason").GetString());
        Assert.Equal("Hello from Bedrock é ✓", tools.GetProperty("second").GetProperty("text").GetString());

        var streamed = await ClientSdk.OkAsync(ClientSdk.Anthropic, "stream_tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Rome")], ClientSdk.ToolUses(streamed));
        Assert.Equal("tool_use", streamed.GetProperty("stop_reason").GetString());
        Assert.Equal(12, streamed.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        var calls = env.Bedrock.Calls.ToList();
        Assert.Equal(["converse", "converse-stream", "converse", "converse", "converse-stream"], calls.Select(c => c.Operation));
        Assert.All(calls, c => Assert.Equal(BedrockConfig.NonClaudeModel, c.ModelId));
        Assert.Equal(0, env.Bedrock.Rejected);
        // The second turn replays the call and answers it, both by Bedrock's tool use id.
        var turn = calls[3].Body.GetProperty("messages");
        Assert.Equal("tooluse_abc", turn[1].GetProperty("content")[0].GetProperty("toolUse").GetProperty("toolUseId").GetString());
        Assert.Equal("tooluse_abc", turn[2].GetProperty("content")[0].GetProperty("toolResult").GetProperty("toolUseId").GetString());
    }

    [Fact]
    public async Task ResponsesSdk_PlainStreamedAndToolRoundTrip()
    {
        await using var env = await Env.StartAsync();
        env.Bedrock.Answer = Answers;

        var plain = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Route);
        Assert.Equal("Hello from Bedrock é ✓", plain.GetProperty("output_text").GetString());
        ClientSdk.AssertResponseUsage(plain, input: 11, cached: 0, output: 4);
        Assert.Equal("Be brief.", env.Bedrock.Calls.First().Body.GetProperty("system")[0].GetProperty("text").GetString());

        ClientSdk.AssertResponseStream(await ClientSdk.OkAsync(ClientSdk.Responses, "stream", env.Gateway, Route), "Hello from Bedrock");

        var tools = await ClientSdk.OkAsync(ClientSdk.Responses, "tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Paris")], ClientSdk.FunctionCalls(tools.GetProperty("first")));
        Assert.Equal("tooluse_abc", tools.GetProperty("first").GetProperty("output")[0].GetProperty("call_id").GetString());
        Assert.Equal("Hello from Bedrock é ✓", tools.GetProperty("second").GetProperty("output_text").GetString());
        Assert.Contains("\"toolUseId\":\"tooluse_abc\"", env.Bedrock.Calls.Last().Body.GetRawText(), StringComparison.Ordinal);

        var streamed = await ClientSdk.OkAsync(ClientSdk.Responses, "stream_tools", env.Gateway, Route);
        Assert.Equal([("get_weather", "Rome")], ClientSdk.FunctionCalls(streamed));
        Assert.Equal("{\"city\":\"Rome\"}", streamed.GetProperty("argument_deltas").GetString());
        Assert.Equal(0, env.Bedrock.Rejected);
    }

    [Fact]
    public async Task ThrottlingAndValidation_InEachClientsErrorShape()
    {
        await using var env = await Env.StartAsync();
        env.Bedrock.Answer = (_, ctx) => Upstream.Json(ctx, 429, """{"message":"Too many requests, please wait before trying again."}""",
            ("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"));

        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route, 429, "rate_limit_error", "Too many requests");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "stream", env.Gateway, Route, 429, "rate_limit_error", "Too many requests");

        env.Bedrock.Answer = (_, ctx) => Upstream.Json(ctx, 400, """{"message":"The model returned the following errors: messages: text content blocks must be non-empty"}""",
            ("x-amzn-ErrorType", "ValidationException"));
        await ClientSdk.FailsAsync(ClientSdk.Anthropic, "stream", env.Gateway, Route, 400, "invalid_request_error", "text content blocks must be non-empty");
        await ClientSdk.FailsAsync(ClientSdk.Responses, "plain", env.Gateway, Route, 400, "invalid_request_error", "text content blocks must be non-empty");
    }

    [Fact]
    public async Task CacheReadsAndWrites_InEachClientsConvention_AndNormalizedInTheRequestLog()
    {
        await using var env = await Env.StartAsync();
        env.Bedrock.Answer = (_, ctx) => FakeBedrock.Converse(ctx, CachedAnswer);

        var message = await ClientSdk.OkAsync(ClientSdk.Anthropic, "plain", env.Gateway, Route);
        ClientSdk.AssertMessageUsage(message, input: 11, cacheRead: 1024, output: 4, cacheWrite: 61);
        var response = await ClientSdk.OkAsync(ClientSdk.Responses, "plain", env.Gateway, Route);
        ClientSdk.AssertResponseUsage(response, input: 1096, cached: 1024, output: 4);

        var record = Assert.Single(await ClientSdk.RecordsAsync(env.Gateway, "responses"));
        ClientSdk.AssertRecordUsage(record, prompt: 1096, cached: 1024, completion: 4, cacheWrite: 61);
        Assert.Equal(("bedrock", BedrockConfig.NonClaudeModel), (record.GetProperty("provider").GetString(), record.GetProperty("upstream_model").GetString()));
        var messages = Assert.Single(RequestLogTests.ReadRecords(env.Gateway.LogDirectory), r => r.GetProperty("client_api").GetString() == "messages");
        ClientSdk.AssertRecordUsage(messages, prompt: 1096, cached: 1024, completion: 4, cacheWrite: 61);
    }
}
