using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Gemini;

/// <summary>
/// Writes a Gemini <c>GenerateContentRequest</c> (contents, systemInstruction, tools, toolConfig, generationConfig)
/// from an OpenAI chat completions request. The same body serves the Gemini API and Gemini on Vertex AI.
/// Fields with no Gemini counterpart that change nothing essential (user, metadata, store, logprobs, parallel_tool_calls,
/// reasoning_effort...) are ignored; ones whose loss would change the answer (n &gt; 1, unknown content parts) are rejected.
/// </summary>
public static class GeminiRequest
{
    /// <summary>Translates <paramref name="openAiBody"/>; throws <see cref="CallRejectedException"/> when it cannot be expressed.</summary>
    public static byte[] Translate(ReadOnlyMemory<byte> openAiBody, string providerType)
    {
        using var doc = Parse(openAiBody);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("The request body must be a JSON object.");

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(openAiBody.Length + 256);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options))
        {
            w.WriteStartObject();
            GeminiMessages.Write(root, w, providerType);
            GeminiTools.Write(root, w, providerType);
            WriteGenerationConfig(root, w, providerType);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    internal static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw CallRejectedException.Invalid("The request body is not valid JSON: " + e.Message);
        }
    }

    private static void WriteGenerationConfig(JsonElement root, Utf8JsonWriter w, string providerType)
    {
        if (root.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && (!n.TryGetInt32(out int count) || count > 1))
            throw CallRejectedException.Unsupported($"n > 1 is not supported by provider type '{providerType}': ask for one choice per request.", "n");

        bool open = false;
        void Begin()
        {
            if (open) return;
            w.WriteStartObject("generationConfig"u8);
            open = true;
        }

        foreach (var (from, to) in Numbers)
        {
            if (!root.TryGetProperty(from, out var value) || value.ValueKind == JsonValueKind.Null) continue;
            if (value.ValueKind != JsonValueKind.Number) throw CallRejectedException.Invalid($"'{from}' must be a number.", from);
            Begin();
            w.WritePropertyName(to);
            value.WriteTo(w);
        }

        // max_completion_tokens replaced max_tokens; a client that sends both means the newer one.
        if (MaxTokens(root) is { } max)
        {
            Begin();
            w.WritePropertyName("maxOutputTokens"u8);
            max.WriteTo(w);
        }

        if (root.TryGetProperty("stop", out var stop) && stop.ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            Begin();
            w.WriteStartArray("stopSequences"u8);
            if (stop.ValueKind == JsonValueKind.String) w.WriteStringValue(stop.GetString());
            else
            {
                foreach (var s in stop.EnumerateArray())
                {
                    if (s.ValueKind == JsonValueKind.String) w.WriteStringValue(s.GetString());
                }
            }
            w.WriteEndArray();
        }

        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object)
        {
            var type = format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "text":
                    break;
                case "json_object":
                    Begin();
                    w.WriteString("responseMimeType"u8, "application/json");
                    break;
                case "json_schema":
                    Begin();
                    w.WriteString("responseMimeType"u8, "application/json");
                    if (format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                        && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                    {
                        w.WritePropertyName("responseSchema"u8);
                        GeminiSchema.Write(schema, w);
                    }
                    break;
                default:
                    throw CallRejectedException.Unsupported($"response_format type '{type}' is not supported by provider type '{providerType}' (text, json_object, json_schema are).", "response_format.type");
            }
        }

        if (open) w.WriteEndObject();
    }

    private static JsonElement? MaxTokens(JsonElement root)
    {
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number) return v;
        }
        return null;
    }

    /// <summary>OpenAI number fields and their generationConfig names.</summary>
    private static readonly (string From, string To)[] Numbers =
    [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ];
}
