using System.Text;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Providers.Bedrock;
using Proxy.Routing;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>Fixture files and the objects the adapter is called with.</summary>
public static class BedrockFixtures
{
    public const string Model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    public const string RequestId = "req-1";
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Bedrock", "Fixtures");

    public static string Text(string relative) => File.ReadAllText(Path.Combine(Dir, relative));

    public static byte[] Bytes(string relative) => File.ReadAllBytes(Path.Combine(Dir, relative));

    /// <summary>The model as the target carries it, a JSON string token (what the decoders put in the answer).</summary>
    public static byte[] ModelJson => Encoding.UTF8.GetBytes("\"" + Model + "\"");

    /// <summary>JSON with insignificant whitespace removed, for comparing a fixture with what the code wrote.</summary>
    public static string Compact(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        using var ms = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(ms, Proxy.Errors.JsonOutput.Options)) doc.RootElement.WriteTo(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public static ProviderSettings Settings(string name = "bedrock", string? apiKey = null, Uri? baseUrl = null) => new()
    {
        Name = name,
        Type = "bedrock",
        BaseUrl = baseUrl ?? BedrockKind.RegionalEndpoint,
        ApiKey = apiKey,
        Extra = new Dictionary<string, string> { ["region"] = "us-east-1", ["access_key_id"] = "AKIDEXAMPLE", ["secret_access_key"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    };

    public static BedrockAdapter Adapter(ProviderSettings? settings = null) =>
        (BedrockAdapter)new BedrockKind(_ => null, new FixedTime(Now)).CreateAdapter(settings ?? Settings());

    public static UpstreamCall Call(ProviderSettings settings, string openAiBody, string model = Model)
    {
        var body = Encoding.UTF8.GetBytes(openAiBody);
        Assert.Null(RequestPeeker.TryPeek(body, out var facts));
        var target = new Target
        {
            Provider = settings,
            UpstreamModel = model,
            UpstreamModelJson = Encoding.UTF8.GetBytes("\"" + model + "\""),
            SameNameUpstream = false,
        };
        return new UpstreamCall(Operation.ChatCompletions, body, facts, target, RequestId) { Created = Now.ToUnixTimeSeconds() };
    }
}

/// <summary>A clock stopped at one instant.</summary>
public sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
