using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Providers;
using Proxy.Routing;

namespace Proxy.Providers.Tests.Common;

/// <summary>Fixture files, calls built the way the pipeline builds them, and JSON comparison that shows both sides.</summary>
public static class Fixture
{
    public static byte[] Bytes(string provider, string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, provider, "Fixtures", name));

    public static string Text(string provider, string name) => Encoding.UTF8.GetString(Bytes(provider, name));

    /// <summary>A call for <paramref name="body"/> as the ingress would make it (peeked facts), to a target named <paramref name="upstreamModel"/>.</summary>
    public static UpstreamCall Call(ProviderSettings provider, byte[] body, string upstreamModel, Operation operation = Operation.ChatCompletions,
        Microsoft.AspNetCore.Http.IHeaderDictionary? clientHeaders = null)
    {
        Assert.Null(RequestPeeker.TryPeek(body, out var facts));
        var target = new Target
        {
            Provider = provider,
            UpstreamModel = upstreamModel,
            UpstreamModelJson = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(upstreamModel, FixtureJson.Default.String)),
            SameNameUpstream = false,
        };
        return new UpstreamCall(operation, body, facts, target, "req-test") { ClientHeaders = clientHeaders };
    }

    public static byte[] ContentBytes(HttpRequestMessage request) => request.Content!.ReadAsByteArrayAsync().GetAwaiter().GetResult();

    /// <summary>Asserts the same JSON value (property order and whitespace aside), printing both when they differ.</summary>
    public static void JsonEqual(string expected, string actual)
    {
        var e = JsonNode.Parse(expected);
        var a = JsonNode.Parse(actual);
        if (!JsonNode.DeepEquals(e, a))
            Assert.Fail($"JSON differs.\nexpected: {e?.ToJsonString()}\nactual:   {a?.ToJsonString()}");
    }
}

/// <summary>A clock stopped at one instant, so <c>created</c> fields are the same in every run.</summary>
public sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public static readonly FixedTime At1700000000 = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));

    public override DateTimeOffset GetUtcNow() => now;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class FixtureJson : System.Text.Json.Serialization.JsonSerializerContext;
