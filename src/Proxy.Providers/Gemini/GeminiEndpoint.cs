namespace Proxy.Providers.Gemini;

/// <summary>Where a Gemini model's generate methods live and how a request to them is authorized.</summary>
public interface IGeminiEndpoint
{
    /// <summary><c>...:generateContent</c>, or <c>...:streamGenerateContent?alt=sse</c> (without alt=sse the stream is a JSON array, not events).</summary>
    Uri Generate(string model, bool stream);

    /// <summary>Where the model embeds text, and in which of Google's two shapes.</summary>
    Uri Embed(string model);

    GeminiEmbeddingApi EmbeddingApi { get; }

    /// <summary>Adds what the request needs to be accepted (an API key header); token-based auth is a handler's job instead.</summary>
    void Authorize(HttpRequestMessage request);
}

/// <summary>
/// The Gemini API (Generative Language API): <c>{base_url}/models/{model}:generateContent</c>, the key in
/// <c>x-goog-api-key</c>: never in the URL, where it would land in logs and traces.
/// </summary>
public sealed class GeminiApiEndpoint(Uri baseUrl, string apiKey) : IGeminiEndpoint
{
    private readonly string _base = baseUrl.ToString().TrimEnd('/');

    public Uri Generate(string model, bool stream) =>
        new($"{_base}/{ModelPath(model)}:{(stream ? "streamGenerateContent?alt=sse" : "generateContent")}");

    public Uri Embed(string model) => new($"{_base}/{ModelPath(model)}:batchEmbedContents");

    public GeminiEmbeddingApi EmbeddingApi => GeminiEmbeddingApi.BatchEmbedContents;

    public void Authorize(HttpRequestMessage request) => request.Headers.TryAddWithoutValidation("x-goog-api-key", apiKey);

    /// <summary>"gemini-2.5-flash" → models/gemini-2.5-flash; a full name (models/..., tunedModels/...) stays as it is.</summary>
    internal static string ModelPath(string model)
    {
        var path = model.StartsWith("models/", StringComparison.Ordinal) || model.StartsWith("tunedModels/", StringComparison.Ordinal) ? model : "models/" + model;
        return Vertex.VertexLocation.EscapePath(path);
    }
}
