using System.Text;
using Microsoft.AspNetCore.Http;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>Building blocks for fake upstream handlers: OpenAI-shaped answers, SSE chunks, misbehaviour.</summary>
public static class Upstream
{
    public const string Completion = """{"id":"chatcmpl-up-1","object":"chat.completion","created":1700000000,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from upstream \u00e9 ✓","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13},"system_fingerprint":"fp_up"}""";

    public static string Chunk(string content, string? finish = null) =>
        $$"""{"id":"chatcmpl-up-2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[{"index":0,"delta":{"content":{{System.Text.Json.JsonSerializer.Serialize(content)}}},"logprobs":null,"finish_reason":{{(finish is null ? "null" : "\"" + finish + "\"")}}}]}""";

    public const string RoleChunk = """{"id":"chatcmpl-up-2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""";

    public const string UsageChunk = """{"id":"chatcmpl-up-2","object":"chat.completion.chunk","created":1700000000,"model":"upstream-model","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}""";

    public static string Event(string data) => "data: " + data + "\n\n";

    public const string Done = "data: [DONE]\n\n";

    /// <summary>A complete, well-formed stream: role, "Hel", "lo", finish, usage, [DONE].</summary>
    public static readonly string[] FullStream =
        [Event(RoleChunk), Event(Chunk("Hel")), Event(Chunk("lo")), Event(Chunk("", "stop")), Event(UsageChunk), Done];

    public static async Task Json(HttpContext ctx, int status, string body, params (string Name, string Value)[] headers)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        foreach (var (name, value) in headers) ctx.Response.Headers[name] = value;
        await ctx.Response.WriteAsync(body, ctx.RequestAborted);
    }

    public static void StartSse(HttpContext ctx)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
    }

    /// <summary>Writes raw text and flushes it onto the wire at once.</summary>
    public static async Task Send(HttpContext ctx, string text)
    {
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>Sends each piece as its own write and flush.</summary>
    public static async Task Sse(HttpContext ctx, params string[] pieces)
    {
        StartSse(ctx);
        foreach (var piece in pieces) await Send(ctx, piece);
    }

    /// <summary>Holds the request open (bounded) until the gateway gives up on it.</summary>
    public static Task Hang(HttpContext ctx, int seconds = 10) => Task.Delay(TimeSpan.FromSeconds(seconds), ctx.RequestAborted);
}
