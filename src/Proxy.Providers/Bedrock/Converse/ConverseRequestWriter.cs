using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// An OpenAI chat request as a Converse / ConverseStream body: system and developer messages become the system
/// blocks; user, assistant and tool messages become alternating user/assistant turns (consecutive ones of the same
/// role merged, as Converse requires); images travel inline; tools, tool calls and tool results map one to one; the
/// sampling fields go to inferenceConfig. What Converse cannot express is refused with a clear message (see
/// <see cref="CallRejectedException"/>), never silently changed; fields it has no use for are dropped.
/// </summary>
public static class ConverseRequestWriter
{
    public static void Write(ReadOnlyMemory<byte> openAiBody, IBufferWriter<byte> output)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(openAiBody);
        }
        catch (JsonException e)
        {
            throw CallRejectedException.Invalid("The request body is not valid JSON: " + e.Message);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && (!n.TryGetInt32(out var count) || count != 1))
                throw CallRejectedException.Unsupported("Bedrock returns one choice per request: 'n' must be 1.", "n");
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
                throw CallRejectedException.Invalid("'messages' must be an array.", "messages");

            using var writer = new Utf8JsonWriter(output, JsonOutput.Options);
            writer.WriteStartObject();
            bool toolBlocks = Messages.Write(writer, messages);
            Messages.WriteSystem(writer, messages);
            WriteInferenceConfig(writer, root);
            Tools.Write(writer, root, toolBlocks);
            writer.WriteEndObject();
        }
    }

    private static void WriteInferenceConfig(Utf8JsonWriter writer, JsonElement root)
    {
        var maxTokens = Number(root, "max_completion_tokens");
        if (maxTokens.ValueKind == JsonValueKind.Undefined) maxTokens = Number(root, "max_tokens");
        var temperature = Number(root, "temperature");
        var topP = Number(root, "top_p");
        root.TryGetProperty("stop", out var stop);
        bool hasStop = stop.ValueKind is JsonValueKind.String or JsonValueKind.Array;
        if (stop.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null) && !hasStop)
            throw CallRejectedException.Invalid("'stop' must be a string or an array of strings.", "stop");
        if (maxTokens.ValueKind == JsonValueKind.Undefined && temperature.ValueKind == JsonValueKind.Undefined
            && topP.ValueKind == JsonValueKind.Undefined && !hasStop) return;

        writer.WriteStartObject("inferenceConfig"u8);
        if (maxTokens.ValueKind != JsonValueKind.Undefined)
        {
            writer.WritePropertyName("maxTokens"u8);
            maxTokens.WriteTo(writer);
        }
        if (temperature.ValueKind != JsonValueKind.Undefined)
        {
            writer.WritePropertyName("temperature"u8);
            temperature.WriteTo(writer);
        }
        if (topP.ValueKind != JsonValueKind.Undefined)
        {
            writer.WritePropertyName("topP"u8);
            topP.WriteTo(writer);
        }
        if (hasStop)
        {
            writer.WriteStartArray("stopSequences"u8);
            if (stop.ValueKind == JsonValueKind.String) writer.WriteStringValue(stop.GetString());
            else
            {
                foreach (var s in stop.EnumerateArray())
                {
                    if (s.ValueKind != JsonValueKind.String) throw CallRejectedException.Invalid("'stop' must hold strings.", "stop");
                    writer.WriteStringValue(s.GetString());
                }
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>A numeric field, Undefined when absent or null; anything else is the client's mistake.</summary>
    private static JsonElement Number(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return default;
        if (value.ValueKind != JsonValueKind.Number) throw CallRejectedException.Invalid($"'{name}' must be a number.", name);
        return value;
    }
}
