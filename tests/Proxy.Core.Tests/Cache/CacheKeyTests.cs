using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.Cache;

namespace Proxy.Core.Tests.Cache;

/// <summary>The cache key: the same request however it is written is one key; anything that changes the answer is another.</summary>
public sealed class CacheKeyTests
{
    private const string Request = """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"number"}}}}}]}""";

    private static string? Key(string body, string api = "chat_completions", string route = "gpt-4o", bool stream = false, string? keyId = null,
        IHeaderDictionary? headers = null) =>
        CacheKey.Compute(api, route, stream, keyId, Encoding.UTF8.GetBytes(body), headers);

    [Fact]
    public void Normalized_KeysSortedRecursively_WhitespaceGone()
    {
        Assert.Equal(
            """{"a":{"x":[3,{"m":1,"n":2}],"y":true},"b":null,"z":"s"}""",
            CacheKey.Normalize(Encoding.UTF8.GetBytes("""{ "z" : "s", "b": null,  "a": {"y": true, "x": [3, {"n": 2, "m": 1}]} }""")));
    }

    [Fact]
    public void KeyOrderWhitespaceAndEscapes_DoNotChangeTheKey()
    {
        var reordered = """
            {
              "tools": [{"function": {"parameters": {"properties": {"a": {"type": "number"}, "b": {"type": "string"}}, "type": "object"}, "name": "f"}, "type": "function"}],
              "temperature": 0.2,
              "messages": [ { "content": "h\u0069", "role": "user" } ],
              "model": "gpt-4o"
            }
            """;
        Assert.Equal(Key(Request), Key(reordered));
        Assert.Matches("^[0-9a-f]{64}$", Key(Request));
    }

    [Theory]
    [InlineData("\"stream\":true,")]
    [InlineData("\"stream_options\":{\"include_usage\":true},")]
    [InlineData("\"user\":\"alice\",")]
    [InlineData("\"metadata\":{\"trace\":\"1\"},")]
    public void FieldsThatDoNotChangeTheAnswer_AreDropped(string field)
    {
        Assert.Equal(Key(Request), Key(Request.Insert(1, field)));
    }

    [Theory]
    [InlineData("\"temperature\":0.2", "\"temperature\":0.3")]
    [InlineData("\"temperature\":0.2", "\"temperature\":0.20")]
    [InlineData("\"content\":\"hi\"", "\"content\":\"Hi\"")]
    [InlineData("\"model\":\"gpt-4o\"", "\"model\":\"gpt-4o-mini\"")]
    [InlineData("\"name\":\"f\"", "\"name\":\"g\"")]
    [InlineData("\"temperature\":0.2", "\"temperature\":0.2,\"n\":2")]
    [InlineData("\"temperature\":0.2", "\"temperature\":0.2,\"max_tokens\":5")]
    public void DifferentParameters_DifferentKeys(string from, string to)
    {
        Assert.Contains(from, Request, StringComparison.Ordinal);
        Assert.NotEqual(Key(Request), Key(Request.Replace(from, to, StringComparison.Ordinal)));
    }

    [Fact]
    public void DroppedOnlyAtTheTop_ANestedUserOrMetadataCounts()
    {
        var a = """{"model":"m","messages":[{"role":"user","content":"hi","metadata":{"a":1}}]}""";
        var b = """{"model":"m","messages":[{"role":"user","content":"hi","metadata":{"a":2}}]}""";
        Assert.NotEqual(Key(a), Key(b));
    }

    [Fact]
    public void ApiRouteStreamAndKey_AreEachPartOfTheKey()
    {
        var plain = Key(Request);
        Assert.NotEqual(plain, Key(Request, api: "messages"));
        Assert.NotEqual(plain, Key(Request, route: "other"));
        Assert.NotEqual(plain, Key(Request, stream: true));
        Assert.NotEqual(plain, Key(Request, keyId: "team-a"));
        Assert.NotEqual(Key(Request, keyId: "team-a"), Key(Request, keyId: "team-b"));
        Assert.Equal(Key(Request, keyId: "team-a"), Key(Request, keyId: "team-a"));
    }

    [Fact]
    public void AnthropicVersionAndBetaHeaders_ArePartOfTheKey_OtherHeadersAreNot()
    {
        var none = Key(Request, api: "messages", headers: new HeaderDictionary { ["x-other"] = "1" });
        Assert.Equal(Key(Request, api: "messages"), none);
        var beta = Key(Request, api: "messages", headers: new HeaderDictionary { ["anthropic-beta"] = "prompt-caching-2024-07-31" });
        var version = Key(Request, api: "messages", headers: new HeaderDictionary { ["anthropic-version"] = "2023-06-01" });
        Assert.NotEqual(none, beta);
        Assert.NotEqual(none, version);
        Assert.NotEqual(beta, version);
    }

    [Fact]
    public void NotJson_NoKey()
    {
        Assert.Null(Key("{\"model\":"));
        Assert.Null(Key(new string('[', 300) + new string(']', 300)));
    }

    [Fact]
    public void Entry_RoundTripsContentTypeAndBytes()
    {
        var body = Encoding.UTF8.GetBytes("data: {\"x\":1}\n\ndata: [DONE]\n\n");
        var entry = CachedAnswer.Encode("text/event-stream", body);
        Assert.True(CachedAnswer.TryDecode(entry, out var answer));
        Assert.Equal("text/event-stream", answer.ContentType);
        Assert.True(answer.IsStream);
        Assert.Equal(body, answer.Body.ToArray());
        Assert.False(CachedAnswer.TryDecode([9, 0], out _));
        Assert.False(CachedAnswer.TryDecode([1, 200, 65], out _));
    }
}
