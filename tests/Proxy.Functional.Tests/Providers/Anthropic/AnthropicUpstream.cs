using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Anthropic;

/// <summary>A gateway config with an anthropic provider, and answers in Anthropic's Messages format.</summary>
internal static class AnthropicUpstream
{
    public static string Config(string baseUrl) => $$"""
        providers:
          claude:
            type: anthropic
            base_url: {{baseUrl}}
            api_key: ${{{TestKeys.UpstreamSecretEnvVar}}}
            connect_timeout: 2s
            first_byte_timeout: 5s
            idle_timeout: 5s
        routes:
          claude-test: { provider: claude, model: claude-sonnet-4-5 }
        keys:
          - id: all
            hash: {{TestKeys.Hash(TestKeys.All)}}
        """;

    public const string TextMessage = """{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello from Claude é ✓"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_read_input_tokens":4,"cache_creation_input_tokens":0,"output_tokens":6}}""";

    public const string ToolUseMessage = """{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":50,"output_tokens":20}}""";

    public static string Event(string type, string data) => $"event: {type}\ndata: {data}\n\n";

    public static readonly string[] TextStream =
    [
        Event("message_start", """{"type":"message_start","message":{"id":"msg_03","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}"""),
        Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
        Event("ping", """{"type": "ping"}"""),
        Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"""),
        Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"""),
        Event("content_block_stop", """{"type":"content_block_stop","index":0}"""),
        Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}"""),
        Event("message_stop", """{"type":"message_stop"}"""),
    ];

    public static readonly string[] ToolStream =
    [
        Event("message_start", """{"type":"message_start","message":{"id":"msg_04","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":40,"output_tokens":1}}}"""),
        Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_09","name":"get_weather","input":{}}}"""),
        Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"""),
        Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":" \"Rome\"}"}}"""),
        Event("content_block_stop", """{"type":"content_block_stop","index":0}"""),
        Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}"""),
        Event("message_stop", """{"type":"message_stop"}"""),
    ];

    public static Task Error(Microsoft.AspNetCore.Http.HttpContext ctx, int status, string type, string message, params (string, string)[] headers) =>
        Upstream.Json(ctx, status, $$"""{"type":"error","error":{"type":"{{type}}","message":"{{message}}"},"request_id":"req_011"}""", headers);
}
