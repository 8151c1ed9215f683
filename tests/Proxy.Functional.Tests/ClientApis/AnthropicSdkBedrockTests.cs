using System.Text;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Bedrock;
using Proxy.Providers.Tests.Bedrock;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The official Anthropic TypeScript SDK (npm @anthropic-ai/sdk), unchanged, through the gateway's /v1/messages to Claude
/// on a fake Bedrock that verifies every SigV4 signature: the client's own request goes to InvokeModel (no Converse
/// translation), the answer comes back as Anthropic's, plain and streamed, and Bedrock's failures in Anthropic's error shape.
/// </summary>
public sealed class AnthropicSdkBedrockTests
{
    private const string Script = "anthropic-sdk.cjs";

    private const string Message =
        """{"id":"msg_bdrk_01Plain","type":"message","role":"assistant","model":"claude-3-5-sonnet-20240620","content":[{"type":"text","text":"Hello from Claude on Bedrock é ✓"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,"output_tokens":6}}""";

    private static readonly string[] StreamEvents =
    [
        """{"type":"message_start","message":{"id":"msg_bdrk_01Stream","type":"message","role":"assistant","model":"claude-3-5-sonnet-20240620","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}""",
        """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" from Bedrock"}}""",
        """{"type":"content_block_stop","index":0}""",
        """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}""",
        """{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":10,"outputTokenCount":5,"invocationLatency":300,"firstByteLatency":100}}""",
    ];

    private static readonly string[] AnthropicEventOrder =
        ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"];

    [Fact]
    public async Task Claude_PassesThroughInvokeModel_PlainAndStream()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        bedrock.Answer = (call, ctx) => call.Operation == "invoke" ? FakeBedrock.Converse(ctx, Message) : FakeBedrock.Stream(ctx, StreamEvents.Select(Chunk));
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        var plain = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "plain", gateway.BaseUrl, "claude"));
        Assert.Equal("Hello from Claude on Bedrock é ✓", plain.GetProperty("text").GetString());
        Assert.Equal(("msg_bdrk_01Plain", "end_turn"), (plain.GetProperty("id").GetString(), plain.GetProperty("stop_reason").GetString()));
        Assert.Equal(4, plain.GetProperty("usage").GetProperty("cache_read_input_tokens").GetInt32());

        var stream = NodeSdk.Ok(await NodeSdk.RunAsync(Script, "stream", gateway.BaseUrl, "claude-profile"));
        Assert.Equal("Hello from Bedrock", stream.GetProperty("text").GetString());
        Assert.Equal(AnthropicEventOrder, stream.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).Distinct());
        Assert.Equal(5, stream.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        // Both went to InvokeModel, signed, with the client's body: the model out (the URL names it), stream out, Bedrock's version in.
        Assert.Equal(0, bedrock.Rejected);
        Assert.Equal(
            [(BedrockConfig.Model, "invoke"), (BedrockConfig.ProfileArn, "invoke-with-response-stream")],
            bedrock.Calls.Select(c => (c.ModelId, c.Operation)));
        foreach (var call in bedrock.Calls)
        {
            Assert.Equal("bedrock-2023-05-31", call.Body.GetProperty("anthropic_version").GetString());
            Assert.False(call.Body.TryGetProperty("model", out _));
            Assert.False(call.Body.TryGetProperty("stream", out _));
            Assert.Equal(100, call.Body.GetProperty("max_tokens").GetInt32());
            Assert.Equal("Say hello", call.Body.GetProperty("messages")[0].GetProperty("content").GetString());
        }
    }

    [Fact]
    public async Task Claude_BedrockFailures_ReachTheSdkInAnthropicsErrorShape()
    {
        await using var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        bedrock.Answer = (call, ctx) => call.Operation == "invoke"
            ? Upstream.Json(ctx, 429, """{"message":"Too many requests, please wait before trying again."}""", ("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"))
            : FakeBedrock.Stream(ctx, [Chunk(StreamEvents[0]), Chunk(StreamEvents[1]),
                EventStreamEncoder.Exception("modelStreamErrorException", """{"message":"The model stream failed."}""")]);
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys()));

        var plain = await NodeSdk.RunAsync(Script, "plain", gateway.BaseUrl, "claude");
        Assert.False(plain.GetProperty("ok").GetBoolean());
        Assert.Equal((429, "rate_limit_error"), (plain.GetProperty("status").GetInt32(), plain.GetProperty("type").GetString()));

        var stream = await NodeSdk.RunAsync(Script, "stream", gateway.BaseUrl, "claude");
        Assert.False(stream.GetProperty("ok").GetBoolean());
        Assert.Contains("The model stream failed.", stream.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static byte[] Chunk(string eventJson) =>
        EventStreamEncoder.Event("chunk", "{\"bytes\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(eventJson)) + "\"}");
}
