using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Providers.Gemini;
using Proxy.Routing;

namespace Proxy.Providers.Tests.Gemini;

/// <summary>Fixture files, calls as the pipeline would build them, and JSON compared in a readable form.</summary>
internal static class GeminiFixtures
{
    public const string RequestId = "req-1";
    public const string Model = "gemini-2.5-flash";
    public static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeSeconds(1700000000);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Gemini", "Fixtures", name));

    public static string Text(string name) => Encoding.UTF8.GetString(Bytes(name));

    /// <summary>An expected OpenAI fixture with the generated tool call ids filled in.</summary>
    public static string Expected(string name) => Text(name)
        .Replace("{{call0}}", ToolCallIds.Create(RequestId, 0, "U0lH+/8="), StringComparison.Ordinal)
        .Replace("{{call1}}", ToolCallIds.Create(RequestId, 1, null), StringComparison.Ordinal)
        .Replace("{{call2}}", ToolCallIds.Create(RequestId, 2, null), StringComparison.Ordinal);

    public static ProviderSettings Settings(string type = "gemini") => new() { Name = "gem", Type = type, BaseUrl = new Uri("https://generativelanguage.googleapis.com/v1beta") };

    public static UpstreamCall Call(byte[] body, Operation operation = Operation.ChatCompletions, ProviderSettings? settings = null)
    {
        Assert.Null(RequestPeeker.TryPeek(body, out var facts));
        var target = new Target
        {
            Provider = settings ?? Settings(),
            UpstreamModel = Model,
            UpstreamModelJson = Encoding.UTF8.GetBytes($"\"{Model}\""),
            SameNameUpstream = false,
        };
        return new UpstreamCall(operation, body, facts, target, RequestId) { Created = Created.ToUnixTimeSeconds() };
    }

    public static UpstreamCall Call(string json, Operation operation = Operation.ChatCompletions) => Call(Encoding.UTF8.GetBytes(json), operation);

    /// <summary>The model as the target carries it, a JSON string token (what the decoders put in the answer).</summary>
    public static byte[] ModelJson => Encoding.UTF8.GetBytes($"\"{Model}\"");

    /// <summary>A Gemini API adapter that is never called over the network (answers are handed to it).</summary>
    public static GeminiAdapter Adapter() =>
        new(Settings(), new HttpMessageInvoker(new SocketsHttpHandler()), new GeminiApiEndpoint(Settings().BaseUrl!, "AIza-test"));

    public static AnswerContext Context => new("chatcmpl-" + RequestId, Created.ToUnixTimeSeconds(), Model, RequestId, "gem");

    /// <summary>Indented, so a failing comparison shows the differing line; key order is kept (the writers' order is part of the contract).</summary>
    public static string Normalize(string json) => JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static string Normalize(ReadOnlySpan<byte> json) => Normalize(Encoding.UTF8.GetString(json));
}

/// <summary>A clock stopped at one instant.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
