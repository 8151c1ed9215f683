using System.Text.Json;
using Microsoft.AspNetCore.Http;
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

    [Theory]
    [InlineData("plain")]
    [InlineData("stream")]
    public async Task ResponsesUpstream_KeptResponse_RetrievedListedAndDeletedAtTheUpstream(string made)
    {
        await using var env = await StartWithResponsesUpstream();
        env.Upstream.Handler = KeepingUpstream(KeptId);

        var run = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "kept", env.Gateway.BaseUrl, "gpt-test", argument: made));

        Assert.Equal(KeptId, run.GetProperty("made").GetProperty("id").GetString());
        Assert.Equal((KeptId, "Hi there"), (run.GetProperty("retrieved").GetProperty("id").GetString(), run.GetProperty("retrieved").GetProperty("output_text").GetString()));
        var item = Assert.Single(run.GetProperty("items").EnumerateArray());
        Assert.Equal(("msg_in_1", "user", "Say hello"), (item.GetProperty("id").GetString(), item.GetProperty("role").GetString(), item.GetProperty("text").GetString()));
        // Deleted at the upstream, and forgotten here: the retrieve after it is the gateway's own 404, never sent up.
        Assert.Equal(404, run.GetProperty("afterDelete").GetInt32());
        Assert.Equal(
            [("POST", "/v1/responses", ""), ("GET", "/v1/responses/" + KeptId, ""), ("GET", "/v1/responses/" + KeptId + "/input_items", "?limit=5"),
                ("DELETE", "/v1/responses/" + KeptId, "")],
            env.Upstream.Requests.Select(r => (r.Method, r.Path, r.Query)).ToList());
        Assert.All(env.Upstream.Requests, r => Assert.Equal("Bearer " + TestKeys.UpstreamSecret, r.Headers["Authorization"]));
    }

    [Fact]
    public async Task ResponsesUpstream_KeptResponse_IsScopedToTheKeyThatMadeIt()
    {
        await using var env = await StartWithResponsesUpstream();
        env.Upstream.Handler = KeepingUpstream(KeptId);

        NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", env.Gateway.BaseUrl, "gpt-test"));
        var other = await NodeSdk.RunAsync(Script, "retrieve", env.Gateway.BaseUrl, "gpt-test", TestKeys.Limited, KeptId);
        Assert.False(other.GetProperty("ok").GetBoolean());
        Assert.Equal(404, other.GetProperty("status").GetInt32());
        Assert.Single(env.Upstream.Requests); // another key's lookup never reaches the upstream

        var own = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "retrieve", env.Gateway.BaseUrl, "gpt-test", TestKeys.All, KeptId));
        Assert.Equal(KeptId, own.GetProperty("id").GetString());
        Assert.Equal(("GET", "/v1/responses/" + KeptId), env.Upstream.Requests.Select(r => (r.Method, r.Path)).Last());
    }

    [Fact]
    public async Task ResponsesUpstream_KeptResponse_UpstreamErrorsComeBackAsTheyAre_ExceptTheGatewaysOwnFaults()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, firstByteTimeout: "1s")
            .Replace("type: openai", "type: openai\n    responses_api: true", StringComparison.Ordinal));
        env.Upstream.Handler = KeepingUpstream(KeptId);
        NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", env.Gateway.BaseUrl, "gpt-test"));

        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, """{"error":{"message":"Slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}""");
        var limited = await NodeSdk.RunAsync(Script, "retrieve", env.Gateway.BaseUrl, "gpt-test", TestKeys.All, KeptId);
        Assert.Equal((false, 429), (limited.GetProperty("ok").GetBoolean(), limited.GetProperty("status").GetInt32()));
        Assert.Contains("Slow down", limited.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The provider refusing the gateway's credential is not the client's 401.
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 401, """{"error":{"message":"Incorrect API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");
        var refused = await NodeSdk.RunAsync(Script, "retrieve", env.Gateway.BaseUrl, "gpt-test", TestKeys.All, KeptId);
        Assert.Equal((502, "upstream_error"), (refused.GetProperty("status").GetInt32(), refused.GetProperty("type").GetString()));

        env.Upstream.Handler = ctx => Upstream.Hang(ctx);
        var slow = await NodeSdk.RunAsync(Script, "retrieve", env.Gateway.BaseUrl, "gpt-test", TestKeys.All, KeptId);
        Assert.Equal(504, slow.GetProperty("status").GetInt32());
        Assert.Contains("first byte timeout", slow.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private const string KeptId = "resp_kept_0123456789abcdef";

    private static Task<TestEnv> StartWithResponsesUpstream() =>
        TestEnv.StartAsync(url => TestConfig.Standard(url).Replace("type: openai", "type: openai\n    responses_api: true", StringComparison.Ordinal));

    /// <summary>A Responses upstream that keeps what it answers, as OpenAI does: create (plain or streamed), retrieve, input items, delete.</summary>
    private static Func<HttpContext, Task> KeepingUpstream(string id)
    {
        bool deleted = false;
        var response = UpstreamResponse.Replace("resp_upstream_1", id, StringComparison.Ordinal);
        return ctx =>
        {
            var (method, path) = (ctx.Request.Method, ctx.Request.Path.Value);
            if (method == "POST" && path == "/v1/responses")
            {
                return FakeUpstream.Recorded(ctx).BodyText.Contains("\"stream\":true", StringComparison.Ordinal)
                    ? Upstream.Sse(ctx, [.. StreamOf(id).Select(e => "event: " + JsonDocument.Parse(e).RootElement.GetProperty("type").GetString() + "\n" + Upstream.Event(e))])
                    : Upstream.Json(ctx, 200, response);
            }
            if (deleted || !(path ?? "").StartsWith("/v1/responses/" + id, StringComparison.Ordinal))
                return Upstream.Json(ctx, 404, $$$"""{"error":{"message":"Response with id '{{{id}}}' not found.","type":"invalid_request_error","param":null,"code":null}}""");
            if (path!.EndsWith("/input_items", StringComparison.Ordinal))
                return Upstream.Json(ctx, 200, """{"object":"list","data":[{"id":"msg_in_1","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"Say hello"}]}],"first_id":"msg_in_1","last_id":"msg_in_1","has_more":false}""");
            if (method == "DELETE")
            {
                deleted = true;
                return Upstream.Json(ctx, 200, $$"""{"id":"{{id}}","object":"response","deleted":true}""");
            }
            return Upstream.Json(ctx, 200, response);
        };
    }

    /// <summary>A streamed answer as OpenAI sends it, response.created first (the id the gateway remembers).</summary>
    private static string[] StreamOf(string id)
    {
        const string Message = """{"id":"msg_up_1","type":"message","status":"in_progress","role":"assistant","content":[]}""";
        const string Part = """{"type":"output_text","text":"","annotations":[]}""";
        var created = $$"""{"id":"{{id}}","object":"response","created_at":1700000000,"status":"in_progress","model":"upstream-model","output":[],"usage":null}""";
        return
        [
            $$"""{"type":"response.created","sequence_number":0,"response":{{created}}}""",
            $$"""{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{{Message}}}""",
            $$"""{"type":"response.content_part.added","sequence_number":2,"item_id":"msg_up_1","output_index":0,"content_index":0,"part":{{Part}}}""",
            """{"type":"response.output_text.delta","sequence_number":3,"item_id":"msg_up_1","output_index":0,"content_index":0,"delta":"Hi there"}""",
            """{"type":"response.output_text.done","sequence_number":4,"item_id":"msg_up_1","output_index":0,"content_index":0,"text":"Hi there"}""",
            """{"type":"response.content_part.done","sequence_number":5,"item_id":"msg_up_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there","annotations":[]}}""",
            """{"type":"response.output_item.done","sequence_number":6,"output_index":0,"item":{"id":"msg_up_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]}}""",
            $$"""{"type":"response.completed","sequence_number":7,"response":{{UpstreamResponse.Replace("resp_upstream_1", id, StringComparison.Ordinal)}}}""",
        ];
    }

    private const string ToolCompletion = """{"id":"chatcmpl-t1","object":"chat.completion","created":1700000000,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}}""";

    private const string UpstreamResponse = """{"id":"resp_upstream_1","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,"instructions":"Be brief.","max_output_tokens":null,"model":"upstream-model","output":[{"type":"message","id":"msg_up_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"store":true,"temperature":1.0,"tool_choice":"auto","tools":[],"top_p":1.0,"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":13},"metadata":{}}""";
}
