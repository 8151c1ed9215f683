using static Proxy.Providers.Tests.Mock.MockTestSupport;

namespace Proxy.Providers.Tests.Mock;

/// <summary>The mock refuses the embeddings <c>input</c> the real API refuses, with its sentences (no param, no code).</summary>
public class MockEmbeddingsValidationTests
{
    private const string Invalid = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

    [Fact]
    public void Missing() =>
        AssertRefused("""{"model":"mock-gpt","encoding_format":"float"}""", "'input' is a required property", null, null, Operation.Embeddings);

    [Theory]
    [InlineData("""{"text":"hi"}""")]
    [InlineData("null")]
    [InlineData("\"\"")]
    [InlineData("[]")]
    [InlineData("7")]
    [InlineData("true")]
    [InlineData("""[""]""")]
    [InlineData("""["a",""]""")]
    [InlineData("""["a",1]""")]
    [InlineData("""[1,"a"]""")]
    [InlineData("""[1,2.5]""")]
    [InlineData("""[1,[2]]""")]
    [InlineData("""[[]]""")]
    [InlineData("""[[1],[]]""")]
    [InlineData("""[[1.5]]""")]
    [InlineData("""[[1],["a"]]""")]
    [InlineData("""[[1],2]""")]
    [InlineData("""[{"text":"a"}]""")]
    [InlineData("""[null]""")]
    [InlineData("""[true]""")]
    public void InvalidInput(string input) =>
        AssertRefused($$"""{"model":"mock-gpt","input":{{input}}}""", Invalid, null, null, Operation.Embeddings);

    [Fact]
    public void MoreThan2048Inputs() =>
        AssertRefused(Inputs(2049), Invalid, null, null, Operation.Embeddings);

    [Theory]
    [InlineData("\"a\"")]
    [InlineData("\" \"")]
    [InlineData("\"\\u0000\"")]
    [InlineData("""["alpha","beta"]""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("""[-1,0]""")]
    [InlineData("""[[1,2],[3]]""")]
    public void Accepted(string input) =>
        AssertAccepted($$"""{"input":{{input}},"model":"mock-gpt","encoding_format":"base64","dimensions":8,"user":"u"}""", Operation.Embeddings);

    [Fact]
    public void Accepted2048Inputs() => AssertAccepted(Inputs(2048), Operation.Embeddings);

    private static string Inputs(int count) =>
        $$"""{"model":"mock-gpt","input":[{{string.Join(",", Enumerable.Repeat("\"x\"", count))}}]}""";
}
