using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The official OpenAI TypeScript SDK (npm openai), unchanged, through the gateway's Responses API: translated for
/// providers that do not speak it (the mock, a chat-only OpenAI-compatible server), with the gateway's own store behind
/// retrieve, input items, delete and previous_response_id; passed through to an upstream that speaks it.
/// </summary>
public sealed class ResponsesSdkNodeTests
{
    private const string Script = "responses-sdk.cjs";

    [Fact]
    public async Task Mock_Translated_PlainAndStream()
    {
        await using var env = await TestEnv.StartAsync();

        var plain = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", env.Gateway.BaseUrl, "mock-gpt"));
        Assert.Equal(("response", "completed"), (plain.GetProperty("object").GetString(), plain.GetProperty("status").GetString()));
        Assert.False(string.IsNullOrEmpty(plain.GetProperty("output_text").GetString()));
        Assert.Equal(5, plain.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal("message", plain.GetProperty("output")[0].GetProperty("type").GetString());

        var stream = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "stream", env.Gateway.BaseUrl, "mock-gpt"));
        var events = stream.GetProperty("events").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal("response.created", events[0]);
        Assert.Equal("response.completed", events[^1]);
        Assert.Contains("response.output_text.delta", events);
        Assert.Contains("response.output_item.done", events);
        var sequence = stream.GetProperty("sequence").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
        Assert.Equal(plain.GetProperty("output_text").GetString(), stream.GetProperty("deltas").GetString());
        Assert.Equal(stream.GetProperty("deltas").GetString(), stream.GetProperty("output_text").GetString());
    }

    [Fact]
    public async Task Mock_Translated_StoredConversationRetrieveAndDelete_ScopedToTheKey()
    {
        await using var env = await TestEnv.StartAsync();

        var run = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "conversation", env.Gateway.BaseUrl, "mock-gpt"));
        var first = run.GetProperty("first").GetProperty("id").GetString()!;
        var second = run.GetProperty("second");
        Assert.Equal(first, second.GetProperty("previous_response_id").GetString());
        Assert.Equal(second.GetProperty("id").GetString(), run.GetProperty("retrieved").GetProperty("id").GetString());
        Assert.Equal(second.GetProperty("output_text").GetString(), run.GetProperty("retrieved").GetProperty("output_text").GetString());
        // The second turn's input items: the first turn's input and answer, then its own input (newest first).
        var items = run.GetProperty("items").EnumerateArray().Select(i => (i.GetProperty("type").GetString(), i.GetProperty("role").GetString())).ToList();
        Assert.Equal([("message", "user"), ("message", "assistant"), ("message", "user")], items);

        // Another key cannot see it: the same 404 as an id that never existed.
        var other = await NodeSdk.RunAsync(Script, "retrieve", env.Gateway.BaseUrl, "mock-gpt", TestKeys.Limited, second.GetProperty("id").GetString());
        Assert.False(other.GetProperty("ok").GetBoolean());
        Assert.Equal(404, other.GetProperty("status").GetInt32());

        var deleted = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "delete", env.Gateway.BaseUrl, "mock-gpt"));
        Assert.Equal(404, deleted.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task ChatOnlyUpstream_Translated_FunctionCallRoundTrip()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx =>
        {
            var body = FakeUpstream.Recorded(ctx).BodyText;
            return Upstream.Json(ctx, 200, body.Contains("\"role\":\"tool\"", StringComparison.Ordinal) ? Upstream.Completion : ToolCompletion);
        };

        var run = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "tools", env.Gateway.BaseUrl, "gpt-test"));
        var call = run.GetProperty("first").GetProperty("output").EnumerateArray().Single(i => i.GetProperty("type").GetString() == "function_call");
        Assert.Equal(("call_1", "get_weather"), (call.GetProperty("call_id").GetString(), call.GetProperty("name").GetString()));
        Assert.Equal("Paris", JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        Assert.Equal("Hello from upstream é ✓", run.GetProperty("second").GetProperty("output_text").GetString());
        // Every request went to chat completions; the second carried the whole conversation the gateway stored.
        Assert.All(env.Upstream.Requests, r => Assert.Equal("/v1/chat/completions", r.Path));
        var last = env.Upstream.Requests.Last().BodyText;
        Assert.Contains("\"tool_call_id\":\"call_1\"", last, StringComparison.Ordinal);
        Assert.Contains("Weather in Paris?", last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponsesUpstream_PassesThroughByteForByteExceptModel()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url).Replace("type: openai", "type: openai\n    responses_api: true", StringComparison.Ordinal));
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, UpstreamResponse);

        var plain = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", env.Gateway.BaseUrl, "gpt-test"));

        Assert.Equal("resp_upstream_1", plain.GetProperty("id").GetString());
        Assert.Equal("Hi there", plain.GetProperty("output_text").GetString());
        var received = Assert.Single(env.Upstream.Requests);
        Assert.Equal("/v1/responses", received.Path);
        using var sent = JsonDocument.Parse(received.Body);
        Assert.Equal("upstream-model", sent.RootElement.GetProperty("model").GetString());
        Assert.Equal("Be brief.", sent.RootElement.GetProperty("instructions").GetString());
    }

    private const string ToolCompletion = """{"id":"chatcmpl-t1","object":"chat.completion","created":1700000000,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}}""";

    private const string UpstreamResponse = """{"id":"resp_upstream_1","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,"instructions":"Be brief.","max_output_tokens":null,"model":"upstream-model","output":[{"type":"message","id":"msg_up_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"store":true,"temperature":1.0,"tool_choice":"auto","tools":[],"top_p":1.0,"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":13},"metadata":{}}""";
}
