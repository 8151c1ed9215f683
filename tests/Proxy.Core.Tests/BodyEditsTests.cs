using System.Text;
using System.Text.Json;
using Proxy.Ingress;

namespace Proxy.Core.Tests;

public class BodyEditsTests
{
    private static string Apply(string json, string? upstreamModel, bool requestUsage)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Null(RequestPeeker.TryPeek(body, out var facts));
        byte[]? model = upstreamModel is null ? null : Encoding.UTF8.GetBytes(JsonSerializer.Serialize(upstreamModel, TestJson.Default.String));
        var edits = BodyEdits.Plan(facts, model, requestUsage);
        var output = new byte[edits.LengthAfter(body.Length)];
        int n = edits.CopyTo(body, output);
        Assert.Equal(output.Length, n);
        var result = Encoding.UTF8.GetString(output);
        using var _ = JsonDocument.Parse(result); // every splice must leave valid JSON
        return result;
    }

    [Fact]
    public void Splice_ReplacesOnlyTheModel()
    {
        Assert.Equal("""{"model":"gpt-4o-2024","messages":[]}""", Apply("""{"model":"fast","messages":[]}""", "gpt-4o-2024", false));
    }

    [Fact]
    public void Splice_NothingToDo_LeavesBytesIdentical()
    {
        const string json = """{ "model" : "m",  "messages": [ ] }""";
        Assert.Equal(json, Apply(json, null, true));
    }

    [Fact]
    public void Splice_EscapesTheUpstreamModel()
    {
        using var doc = JsonDocument.Parse(Apply("""{"model":"x"}""", "a\"b", false));
        Assert.Equal("a\"b", doc.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public void Stream_WithoutStreamOptions_AddsIncludeUsage()
    {
        Assert.Equal("""{"model":"m","stream":true,"stream_options":{"include_usage":true}}""", Apply("""{"model":"m","stream":true}""", null, true));
    }

    [Fact]
    public void Stream_IncludeUsageFalse_FlipsToTrue()
    {
        Assert.Equal("""{"model":"m","stream":true,"stream_options":{"include_usage":true}}""",
            Apply("""{"model":"m","stream":true,"stream_options":{"include_usage":false}}""", null, true));
    }

    [Fact]
    public void Stream_OtherStreamOptions_AreKept()
    {
        Assert.Equal("""{"model":"m","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}""",
            Apply("""{"model":"m","stream":true,"stream_options":{"include_obfuscation":false}}""", null, true));
    }

    [Theory]
    [InlineData("""{"model":"m","stream":true,"stream_options":{}}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"model":"m","stream":true,"stream_options":{ }}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true }}""")]
    [InlineData("""{"model":"m","stream":true,"stream_options":null}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true}}""")]
    public void Stream_EmptyOrNullStreamOptions_GetIncludeUsage(string input, string expected)
    {
        Assert.Equal(expected, Apply(input, null, true));
    }

    [Fact]
    public void Stream_ModelAndUsage_BothApplied_InEitherOrder()
    {
        Assert.Equal("""{"stream":true,"model":"up","stream_options":{"include_usage":true}}""",
            Apply("""{"stream":true,"model":"m","stream_options":{"include_usage":false}}""", "up", true));
        Assert.Equal("""{"stream_options":{"include_usage":true},"stream":true,"model":"up"}""",
            Apply("""{"stream_options":{"include_usage":false},"stream":true,"model":"m"}""", "up", true));
    }

    [Fact]
    public void NotStreaming_UsageIsNotRequested()
    {
        Assert.Equal("""{"model":"m"}""", Apply("""{"model":"m"}""", null, true));
    }

    [Fact]
    public async Task WriteAsync_MatchesCopyTo()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","stream":true}""");
        RequestPeeker.TryPeek(body, out var facts);
        var edits = BodyEdits.Plan(facts, "\"x\""u8.ToArray(), true);
        using var stream = new MemoryStream();
        await edits.WriteAsync(body, stream, CancellationToken.None);
        var expected = new byte[edits.LengthAfter(body.Length)];
        edits.CopyTo(body, expected);
        Assert.Equal(expected, stream.ToArray());
    }
}
