using Proxy.Providers.Gemini;

namespace Proxy.Providers.Vertex;

/// <summary>Gemini models on Vertex AI (publisher google); requests are authorized by the <see cref="Google.GoogleAuthHandler"/> in front of the pool.</summary>
public sealed class VertexGeminiEndpoint(VertexLocation location) : IGeminiEndpoint
{
    public Uri Generate(string model, bool stream) =>
        location.ModelUrl("google", model, stream ? "streamGenerateContent?alt=sse" : "generateContent");

    /// <summary>Vertex AI embeds with predict on its text-embedding (and gemini-embedding) publisher models.</summary>
    public Uri Embed(string model) => location.ModelUrl("google", model, "predict");

    public GeminiEmbeddingApi EmbeddingApi => GeminiEmbeddingApi.Predict;

    public void Authorize(HttpRequestMessage request)
    {
    }
}
