using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace MockUpstream.OpenAi;

/// <summary>
/// POST /v1/embeddings: one fixed unit vector per input, as a JSON float array or, for encoding_format "base64",
/// as base64 of the little-endian float32 bytes (what the OpenAI SDKs decode). The default-size vector is
/// rendered once at start; the response is streamed through the pipe with the vector written raw.
/// </summary>
internal sealed class Embeddings(MockOptions options)
{
    public const string DefaultModel = "text-embedding-3-small";
    private const int MaxDims = 16_384;
    private const int MaxInputs = 2048; // the OpenAI limit; also bounds the response size

    private readonly (byte[] Floats, byte[] Base64) _default = Render(options.EmbeddingDims);

    private readonly record struct Request(int Inputs, bool Base64, int Dims, string Model);

    public async Task HandleAsync(HttpContext ctx)
    {
        Request req = await Wire.ParseBodyAsync(ctx, Parse);
        if (req.Inputs is < 1 or > MaxInputs || req.Dims is < 1 or > MaxDims)
        {
            await Wire.WriteAsync(ctx, OpenAiFormat.BadRequest, status: 400);
            return;
        }
        var (floats, base64) = req.Dims == options.EmbeddingDims ? _default : Render(req.Dims);
        byte[] vector = req.Base64 ? base64 : floats;

        await Pacing.Delay(Pacing.For(ctx.Request, options).LatencyMs, ctx.RequestAborted);
        ctx.Response.ContentType = "application/json";
        var pipe = ctx.Response.BodyWriter;
        await using var w = new Utf8JsonWriter(pipe);
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        for (int i = 0; i < req.Inputs; i++)
        {
            w.WriteStartObject();
            w.WriteString("object", "embedding");
            w.WriteNumber("index", i);
            w.WritePropertyName("embedding");
            w.WriteRawValue(vector, skipInputValidation: true);
            w.WriteEndObject();
            if (w.BytesPending > 32 * 1024)
            {
                w.Flush(); // hand the bytes to the pipe and send them, so a large batch is not held in memory
                await pipe.FlushAsync(ctx.RequestAborted);
            }
        }
        w.WriteEndArray();
        w.WriteString("model", req.Model);
        w.WriteStartObject("usage");
        int tokens = 8 * req.Inputs; // a stand-in: the mock does not tokenize
        w.WriteNumber("prompt_tokens", tokens);
        w.WriteNumber("total_tokens", tokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private Request Parse(ReadOnlySequence<byte> body)
    {
        var r = new Utf8JsonReader(body);
        int inputs = 0, dims = options.EmbeddingDims;
        bool base64 = false;
        string model = DefaultModel;
        try
        {
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return default;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                string name = r.GetString() ?? "";
                r.Read();
                switch (name)
                {
                    case "input": inputs = CountInputs(ref r); break;
                    case "encoding_format": base64 = r.TokenType == JsonTokenType.String && r.ValueTextEquals("base64"u8); break;
                    case "dimensions" when r.TokenType == JsonTokenType.Number: dims = r.TryGetInt32(out int d) ? d : -1; break;
                    case "model" when r.TokenType == JsonTokenType.String: model = r.GetString() ?? DefaultModel; break;
                    default: r.Skip(); break;
                }
            }
            return new Request(inputs, base64, dims, model);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>"text" is one input; ["a","b"] and [[1,2],[3]] are one per element; [1,2,3] (tokens) is one.</summary>
    private static int CountInputs(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.String) return 1;
        if (r.TokenType != JsonTokenType.StartArray) { r.Skip(); return 0; }
        int count = 0;
        bool tokens = false;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType == JsonTokenType.Number) tokens = true;
            else { count++; r.Skip(); }
        }
        return tokens ? 1 : count;
    }

    /// <summary>A deterministic unit vector, rendered both ways: JSON number array and quoted base64 of float32 LE.</summary>
    private static (byte[] Floats, byte[] Base64) Render(int dims)
    {
        var v = new float[dims];
        double norm = 0;
        for (int i = 0; i < dims; i++) { v[i] = (float)Math.Sin(i * 0.37 + 1); norm += v[i] * (double)v[i]; }
        var bytes = new byte[dims * 4];
        for (int i = 0; i < dims; i++)
        {
            v[i] = (float)(v[i] / Math.Sqrt(norm));
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), v[i]);
        }
        byte[] floats = Wire.Json(w =>
        {
            w.WriteStartArray();
            foreach (float x in v) w.WriteNumberValue(x);
            w.WriteEndArray();
        });
        byte[] base64 = Wire.Json(w => w.WriteBase64StringValue(bytes));
        return (floats, base64);
    }
}
