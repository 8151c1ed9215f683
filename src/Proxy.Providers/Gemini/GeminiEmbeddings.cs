using System.Buffers;
using System.Text.Json;
using Proxy.Errors;
using static Proxy.Providers.Gemini.GeminiRequest;

namespace Proxy.Providers.Gemini;

/// <summary>The two Google embedding APIs: the Gemini API's batchEmbedContents and Vertex AI's predict on text-embedding models.</summary>
public enum GeminiEmbeddingApi
{
    /// <summary><c>{"requests":[{"model","content":{"parts":[{"text"}]},"outputDimensionality"}]}</c> → <c>{"embeddings":[{"values"}]}</c>; no token counts.</summary>
    BatchEmbedContents,

    /// <summary><c>{"instances":[{"content"}],"parameters":{"outputDimensionality"}}</c> → <c>{"predictions":[{"embeddings":{"values","statistics":{"token_count"}}}]}</c>.</summary>
    Predict,
}

/// <summary>
/// OpenAI <c>/v1/embeddings</c> over Google's embedding APIs: <c>input</c> (a string or an array of strings; token-id
/// arrays are refused) and <c>dimensions</c> (→ outputDimensionality) go up; the vectors come back in input order as
/// floats, or as little-endian float32 base64 when the client asked for <c>encoding_format: base64</c>. Usage is the sum
/// of Vertex AI's per-input token counts; the Gemini API reports none, so its answers carry zero and accounting records
/// the usage as unreported.
/// </summary>
public static class GeminiEmbeddings
{
    public static byte[] Translate(ReadOnlyMemory<byte> openAiBody, GeminiEmbeddingApi api, string model, string providerType)
    {
        using var doc = Parse(openAiBody);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("The request body must be a JSON object.");
        var inputs = Inputs(root, providerType);
        int? dimensions = root.TryGetProperty("dimensions", out var d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var n) ? n : null;

        var buffer = new ArrayBufferWriter<byte>(openAiBody.Length + 128);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options))
        {
            w.WriteStartObject();
            if (api == GeminiEmbeddingApi.BatchEmbedContents)
            {
                var name = model.StartsWith("models/", StringComparison.Ordinal) || model.StartsWith("tunedModels/", StringComparison.Ordinal) ? model : "models/" + model;
                w.WriteStartArray("requests"u8);
                foreach (var input in inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("model"u8, name);
                    w.WriteStartObject("content"u8);
                    w.WriteStartArray("parts"u8);
                    w.WriteStartObject();
                    w.WriteString("text"u8, input);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                    if (dimensions is { } dims) w.WriteNumber("outputDimensionality"u8, dims);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            else
            {
                w.WriteStartArray("instances"u8);
                foreach (var input in inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("content"u8, input);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (dimensions is { } dims)
                {
                    w.WriteStartObject("parameters"u8);
                    w.WriteNumber("outputDimensionality"u8, dims);
                    w.WriteEndObject();
                }
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteAnswer(ReadOnlySpan<byte> upstreamBody, ReadOnlyMemory<byte> openAiBody, GeminiEmbeddingApi api, in AnswerContext context,
        IBufferWriter<byte> output, ref Usage usage)
    {
        bool base64;
        using (var request = JsonDocument.Parse(openAiBody))
        {
            base64 = request.RootElement.TryGetProperty("encoding_format", out var f) && f.ValueEquals("base64");
        }

        try
        {
            using var doc = JsonDocument.Parse(upstreamBody.ToArray());
            var root = doc.RootElement;
            var items = root.GetProperty(api == GeminiEmbeddingApi.BatchEmbedContents ? "embeddings" : "predictions");
            long tokens = 0;
            using var w = new Utf8JsonWriter(output, JsonOutput.Options);
            w.WriteStartObject();
            w.WriteString("object"u8, "list");
            w.WriteStartArray("data"u8);
            int index = 0;
            foreach (var item in items.EnumerateArray())
            {
                var embedding = api == GeminiEmbeddingApi.BatchEmbedContents ? item : item.GetProperty("embeddings");
                if (api == GeminiEmbeddingApi.Predict && embedding.TryGetProperty("statistics", out var stats)
                    && stats.TryGetProperty("token_count", out var count) && count.TryGetInt64(out var c))
                    tokens += c;
                w.WriteStartObject();
                w.WriteString("object"u8, "embedding");
                w.WriteNumber("index"u8, index++);
                w.WritePropertyName("embedding"u8);
                WriteVector(embedding.GetProperty("values"), w, base64);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model"u8, context.Model);
            w.WriteStartObject("usage"u8);
            w.WriteNumber("prompt_tokens"u8, tokens);
            w.WriteNumber("total_tokens"u8, tokens);
            w.WriteEndObject();
            w.WriteEndObject();
            usage = new Usage { PromptTokens = tokens, Reported = api == GeminiEmbeddingApi.Predict };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // Nothing has reached the client yet: the output buffer is only sent once this returns.
            throw new InvalidUpstreamAnswerException("the embeddings answer has not the expected shape (" + e.Message + ")", e);
        }
    }

    private static void WriteVector(JsonElement values, Utf8JsonWriter w, bool base64)
    {
        if (!base64)
        {
            values.WriteTo(w);
            return;
        }
        var bytes = new byte[values.GetArrayLength() * sizeof(float)];
        int at = 0;
        foreach (var v in values.EnumerateArray())
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), v.GetSingle());
            at += sizeof(float);
        }
        w.WriteBase64StringValue(bytes);
    }

    private static List<string> Inputs(JsonElement root, string providerType)
    {
        if (!root.TryGetProperty("input", out var input)) throw CallRejectedException.Invalid("'input' is required.", "input");
        if (input.ValueKind == JsonValueKind.String) return [input.GetString()!];
        if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0)
        {
            var list = new List<string>(input.GetArrayLength());
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    throw CallRejectedException.Unsupported($"provider type '{providerType}' embeds text only: 'input' must be a string or an array of strings (token ids are not supported).", "input");
                list.Add(item.GetString()!);
            }
            return list;
        }
        throw CallRejectedException.Invalid("'input' must be a string or a non-empty array of strings.", "input");
    }
}
