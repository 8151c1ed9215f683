using System.Text;
using Proxy.Ingress;

namespace Proxy.Core.Tests;

public class RequestPeekerTests
{
    private static RequestFacts Peek(string json)
    {
        var error = RequestPeeker.TryPeek(Encoding.UTF8.GetBytes(json), out var facts);
        Assert.Null(error);
        return facts;
    }

    private static string Slice(string json, int start, int length) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(json), start, length);

    [Fact]
    public void Peek_FindsModelRangeStreamAndTokenCaps()
    {
        const string json = """{"messages":[{"role":"user","content":"x"}],"model":"gpt-4o","stream":true,"max_tokens":42}""";
        var f = Peek(json);
        Assert.Equal("\"gpt-4o\"", Slice(json, f.ModelStart, f.ModelLength));
        Assert.True(f.Stream);
        Assert.False(f.IncludeUsage);
        Assert.Equal(42, f.MaxTokens);
        Assert.Equal('}', json[f.ObjectEnd]);
    }

    [Fact]
    public void Peek_PrefersMaxCompletionTokensOverMaxTokens()
    {
        Assert.Equal(7, Peek("""{"model":"m","max_tokens":100,"max_completion_tokens":7}""").MaxTokens);
    }

    [Fact]
    public void Peek_ReadsIncludeUsageAndItsValueRange()
    {
        const string json = """{"model":"m","stream":true,"stream_options":{"include_usage":false}}""";
        var f = Peek(json);
        Assert.False(f.IncludeUsage);
        Assert.True(f.StreamOptionsIsObject);
        Assert.True(f.StreamOptionsHasFields);
        Assert.Equal("false", Slice(json, f.IncludeUsageStart, f.IncludeUsageLength));
        Assert.True(Peek("""{"model":"m","stream_options":{"include_usage":true}}""").IncludeUsage);
    }

    [Fact]
    public void Peek_ModelWithEscapes_KeepsTheRawRange()
    {
        const string json = """{"model":"a\u0062c"}""";
        var f = Peek(json);
        Assert.Equal("\"a\\u0062c\"", Slice(json, f.ModelStart, f.ModelLength));
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[""", "line 1")]
    [InlineData("""{"model":"m",}""", "line 1, column 14")]
    [InlineData("{\n  \"model\": \"m\",\n  \"x\": tru\n}", "line 3")]
    [InlineData("""{"model":"m"} trailing""", "")]
    public void Peek_MalformedJson_SaysWhereItBroke(string json, string where)
    {
        var error = RequestPeeker.TryPeek(Encoding.UTF8.GetBytes(json), out _);
        Assert.NotNull(error);
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
        Assert.Null(error.Param);
    }

    [Theory]
    [InlineData("""[1,2]""", "must be a JSON object", null)]
    [InlineData("""{"model":5}""", "'model' must be a string", "model")]
    [InlineData("""{"model":"m","stream":"yes"}""", "'stream' must be a boolean", "stream")]
    [InlineData("""{"model":"m","max_tokens":-1}""", "'max_tokens' must be a positive integer", "max_tokens")]
    [InlineData("""{"model":"m","stream_options":5}""", "'stream_options' must be an object", "stream_options")]
    public void Peek_WrongTypes_NameTheParam(string json, string message, string? param)
    {
        var error = RequestPeeker.TryPeek(Encoding.UTF8.GetBytes(json), out _);
        Assert.NotNull(error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Peek_EmptyBody_IsAnError()
    {
        Assert.NotNull(RequestPeeker.TryPeek([], out _));
    }

    [Fact]
    public void Peek_NoModel_ReportsNoModel()
    {
        Assert.False(Peek("""{"messages":[]}""").HasModel);
    }
}

public class RequestPeekerDuplicateTests
{
    [Theory]
    [InlineData("""{"model":"a","messages":[],"model":"b"}""", "model")]
    [InlineData("""{"model":"a","stream":true,"stream":false}""", "stream")]
    [InlineData("""{"model":"a","stream_options":{},"stream_options":null}""", "stream_options")]
    [InlineData("""{"model":"a","max_tokens":1,"max_tokens":2}""", "max_tokens")]
    public void DuplicateDecidingField_IsRejected(string json, string field)
    {
        var error = RequestPeeker.TryPeek(System.Text.Encoding.UTF8.GetBytes(json), out _);
        Assert.NotNull(error);
        Assert.Equal(field, error.Param);
        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateOtherFields_AreTheUpstreamsBusiness()
    {
        Assert.Null(RequestPeeker.TryPeek("""{"model":"a","temperature":1,"temperature":2}"""u8, out _));
    }
}
