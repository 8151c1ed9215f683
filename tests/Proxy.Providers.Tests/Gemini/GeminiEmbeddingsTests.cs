using System.Buffers;
using System.Text;
using Proxy.Providers.Gemini;

namespace Proxy.Providers.Tests.Gemini;

/// <summary>/v1/embeddings over batchEmbedContents (Gemini API) and predict (Vertex AI).</summary>
public class GeminiEmbeddingsTests
{
    private const string Request = """{"model":"emb","input":["alpha","beta"],"dimensions":3,"encoding_format":"float"}""";

    [Fact]
    public void Request_GeminiApi_BatchEmbedContents()
    {
        var body = Encoding.UTF8.GetString(GeminiEmbeddings.Translate(Encoding.UTF8.GetBytes(Request), GeminiEmbeddingApi.BatchEmbedContents, "gemini-embedding-001", "gemini"));

        Assert.Equal(GeminiFixtures.Normalize("""
            {"requests": [
              {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "alpha"}]}, "outputDimensionality": 3},
              {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "beta"}]}, "outputDimensionality": 3}
            ]}
            """), GeminiFixtures.Normalize(body));
    }

    [Fact]
    public void Request_Vertex_Predict()
    {
        var body = Encoding.UTF8.GetString(GeminiEmbeddings.Translate(Encoding.UTF8.GetBytes("""{"model":"emb","input":"alpha"}"""), GeminiEmbeddingApi.Predict, "text-embedding-005", "vertex"));

        Assert.Equal("""{"instances":[{"content":"alpha"}]}""", body);
    }

    [Theory]
    [InlineData("""{"model":"emb","input":[1,2,3]}""", "token ids are not supported")]
    [InlineData("""{"model":"emb","input":[]}""", "non-empty array")]
    [InlineData("""{"model":"emb"}""", "'input' is required")]
    public void Request_NotText_IsRejected(string json, string message)
    {
        var e = Assert.Throws<CallRejectedException>(() => GeminiEmbeddings.Translate(Encoding.UTF8.GetBytes(json), GeminiEmbeddingApi.Predict, "m", "vertex"));

        Assert.Equal(400, e.Failure.Status);
        Assert.Equal("input", e.Param);
        Assert.Contains(message, e.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Answer_GeminiApi_FloatsInOrder_UsageUnreported()
    {
        var (json, usage) = Answer("""{"embeddings": [{"values": [0.5, -0.25, 0.125]}, {"values": [1, 0, 0]}]}""", GeminiEmbeddingApi.BatchEmbedContents, Request);

        Assert.Equal("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25,0.125]},{"object":"embedding","index":1,"embedding":[1,0,0]}],"model":"gemini-2.5-flash","usage":{"prompt_tokens":0,"total_tokens":0}}""", json);
        Assert.False(usage.Reported);
    }

    [Fact]
    public void Answer_Vertex_Base64AndTokenCounts()
    {
        var (json, usage) = Answer("""
            {"predictions": [
              {"embeddings": {"statistics": {"truncated": false, "token_count": 3}, "values": [0.5, -0.25, 0.125]}},
              {"embeddings": {"statistics": {"truncated": false, "token_count": 2}, "values": [1, 0, 0]}}
            ], "metadata": {"billableCharacterCount": 9}}
            """, GeminiEmbeddingApi.Predict, """{"model":"emb","input":["alpha","beta"],"encoding_format":"base64"}""");

        float[] first = [0.5f, -0.25f, 0.125f];
        var b64 = Convert.ToBase64String(first.SelectMany(BitConverter.GetBytes).ToArray());
        Assert.Contains($"\"index\":0,\"embedding\":\"{b64}\"", json, StringComparison.Ordinal);
        Assert.Contains("\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5}", json, StringComparison.Ordinal);
        Assert.True(usage.Reported);
        Assert.Equal(5, usage.PromptTokens);
    }

    [Fact]
    public void Answer_Unreadable_IsAnInvalidUpstreamAnswer()
    {
        var e = Assert.Throws<InvalidUpstreamAnswerException>(() => Answer("""{"something": "else"}""", GeminiEmbeddingApi.Predict, Request));

        Assert.Contains("embeddings answer", e.Message, StringComparison.Ordinal);
    }

    private static (string Json, Usage Usage) Answer(string upstream, GeminiEmbeddingApi api, string request)
    {
        var output = new ArrayBufferWriter<byte>();
        var usage = default(Usage);
        GeminiEmbeddings.WriteAnswer(Encoding.UTF8.GetBytes(upstream), Encoding.UTF8.GetBytes(request), api, GeminiFixtures.Context, output, ref usage);
        return (Encoding.UTF8.GetString(output.WrittenSpan), usage);
    }
}
