using System.Buffers.Binary;
using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>Deterministic unit vectors seeded by each input's bytes, as floats or base64 (the official SDKs ask for base64).</summary>
internal static class MockEmbeddings
{
    public static void Write(Utf8JsonWriter w, ReadOnlySpan<byte> body, string model, int dimensions)
    {
        var (inputs, base64) = ReadInputs(body);
        w.WriteStartObject();
        w.WriteString("object"u8, "list"u8);
        w.WriteStartArray("data"u8);
        var vector = new float[dimensions];
        for (int i = 0; i < inputs.Count; i++)
        {
            Fill(vector, inputs[i]);
            w.WriteStartObject();
            w.WriteString("object"u8, "embedding"u8);
            w.WriteNumber("index"u8, i);
            if (base64)
            {
                var bytes = new byte[dimensions * 4];
                for (int d = 0; d < dimensions; d++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(d * 4), vector[d]);
                w.WriteBase64String("embedding"u8, bytes);
            }
            else
            {
                w.WriteStartArray("embedding"u8);
                foreach (var v in vector) w.WriteNumberValue(v);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("model"u8, model);
        int prompt = Math.Max(1, inputs.Sum(x => x.Length) / 4);
        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, prompt);
        w.WriteNumber("total_tokens"u8, prompt);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>"input" may be a string, an array of strings, an array of token ids, or an array of such arrays.</summary>
    private static (List<byte[]> Inputs, bool Base64) ReadInputs(ReadOnlySpan<byte> body)
    {
        var inputs = new List<byte[]>();
        bool base64 = false;
        var reader = new Utf8JsonReader(body);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("encoding_format"u8))
            {
                reader.Read();
                base64 = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("base64"u8);
            }
            else if (reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                long start = reader.TokenStartIndex;
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    inputs.Add(body[(int)start..(int)reader.BytesConsumed].ToArray());
                    continue;
                }
                bool numbers = false;
                var all = start;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    numbers |= reader.TokenType == JsonTokenType.Number;
                    long s = reader.TokenStartIndex;
                    reader.Skip();
                    if (!numbers) inputs.Add(body[(int)s..(int)reader.BytesConsumed].ToArray());
                }
                // A flat array of token ids is one input.
                if (numbers)
                {
                    inputs.Clear();
                    inputs.Add(body[(int)all..(int)reader.BytesConsumed].ToArray());
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (inputs.Count == 0) inputs.Add([]);
        return (inputs, base64);
    }

    private static void Fill(float[] vector, byte[] seed)
    {
        // FNV-1a: a stable seed from the input bytes, so the same text always embeds the same way.
        ulong state = 14695981039346656037UL;
        foreach (var b in seed) state = (state ^ b) * 1099511628211UL;
        state |= 1;
        double norm = 0;
        for (int i = 0; i < vector.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            vector[i] = (float)((state >> 11) * (1.0 / (1UL << 53)) * 2 - 1);
            norm += vector[i] * vector[i];
        }
        float scale = (float)(1 / Math.Sqrt(Math.Max(norm, 1e-12)));
        for (int i = 0; i < vector.Length; i++) vector[i] *= scale;
    }
}
