using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Gemini;

/// <summary>Answers in Gemini's own format (as the Gemini API and Vertex AI send them) and the configs that point the gateway at a fake.</summary>
public static class GeminiUpstream
{
    public const string Model = "gemini-2.5-flash";

    public static string Text(string text, string finish = "STOP") => $$"""
        {
          "candidates": [{"content": {"parts": [{"text": {{JsonSerializer.Serialize(text)}}}], "role": "model"}, "finishReason": "{{finish}}", "index": 0}],
          "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13},
          "modelVersion": "gemini-2.5-flash",
          "responseId": "resp-1"
        }
        """;

    /// <summary>A function call with a Gemini 3 thought signature, which must come back on the next turn.</summary>
    public const string ToolCall = """
        {
          "candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnLTE="}], "role": "model"}, "finishReason": "STOP", "index": 0}],
          "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 6, "totalTokenCount": 26}
        }
        """;

    public const string PromptBlocked = """{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4}}""";

    public static string Event(string json) => "data: " + json + "\r\n\r\n";

    public static readonly string[] TextStream =
    [
        Event("""{"candidates": [{"content": {"parts": [{"text": "Hel"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9}}"""),
        Event("""{"candidates": [{"content": {"parts": [{"text": "lo"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 2,"totalTokenCount": 11}}"""),
    ];

    public static readonly string[] ToolStream =
    [
        Event("""{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris"}},"thoughtSignature": "c2lnLTE="},{"functionCall": {"name": "get_weather","args": {"city": "Rome"}}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 20,"candidatesTokenCount": 12,"totalTokenCount": 32}}"""),
    ];

    public static string GoogleError(int code, string status, string message) =>
        $$$"""{"error": {"code": {{{code}}}, "message": {{{JsonSerializer.Serialize(message)}}}, "status": "{{{status}}}"}}""";

    /// <summary>A config with the given provider entries (indented two spaces), a route (<c>flash</c>) to <paramref name="provider"/>, and the test key.</summary>
    public static string Config(string providers, string provider, string route = "flash", string model = Model) => $$"""
        providers:
        {{providers}}
        routes:
          {{route}}: { provider: {{provider}}, model: {{model}} }
        keys:
          - id: all
            hash: {{TestKeys.Hash(TestKeys.All)}}
        """;

    /// <summary>A gemini provider <c>gem</c> at the fake whose base URL (…/v1) is given.</summary>
    public static string GeminiProvider(string upstreamBaseUrl) => $$"""
          gem:
            type: gemini
            base_url: {{upstreamBaseUrl}}beta
            api_key: ${{{TestKeys.UpstreamSecretEnvVar}}}
            connect_timeout: 2s
            first_byte_timeout: 5s
            idle_timeout: 5s
        """;

    /// <summary>Answers with <paramref name="respond"/> and keeps each request's query string (FakeUpstream records only the path).</summary>
    public static Func<HttpContext, Task> Recording(ConcurrentQueue<string> queries, Func<HttpContext, Task> respond) => ctx =>
    {
        queries.Enqueue(ctx.Request.QueryString.Value ?? "");
        return respond(ctx);
    };
}
