using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>Content blocks of one message: text, inline images, tool use and tool results.</summary>
internal static class Content
{
    public static void WriteUser(Utf8JsonWriter writer, JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            throw CallRejectedException.Invalid("A user message needs content.", param + ".content");
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteText(writer, content.GetString()!);
            return;
        }
        if (content.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'content' must be a string or an array of parts.", param + ".content");
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partParam = $"{param}.content[{i++}]";
            var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "text":
                    WriteText(writer, PartText(part, partParam));
                    break;
                case "image_url":
                    Images.Write(writer, part, partParam);
                    break;
                default:
                    throw CallRejectedException.Unsupported($"Content part type '{type}' is not supported for Bedrock (text and image_url are).", partParam + ".type");
            }
        }
    }

    /// <summary>Text, then one toolUse block per tool call; returns whether there were tool calls.</summary>
    public static bool WriteAssistant(Utf8JsonWriter writer, JsonElement message, string param)
    {
        foreach (var text in Texts(message, param))
        {
            // An assistant turn that only calls tools carries "" or null content; Converse rejects blank text blocks.
            if (!string.IsNullOrWhiteSpace(text)) WriteText(writer, text);
        }
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind == JsonValueKind.Null) return false;
        if (calls.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'tool_calls' must be an array.", param + ".tool_calls");
        int i = 0;
        bool any = false;
        foreach (var call in calls.EnumerateArray())
        {
            var callParam = $"{param}.tool_calls[{i++}]";
            var id = String(call, "id", callParam);
            if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw CallRejectedException.Invalid("A tool call needs a function.", callParam + ".function");
            var name = String(function, "name", callParam + ".function");
            var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "";
            writer.WriteStartObject();
            writer.WriteStartObject("toolUse"u8);
            writer.WriteString("toolUseId"u8, id);
            writer.WriteString("name"u8, name);
            writer.WritePropertyName("input"u8);
            WriteArguments(writer, arguments, callParam + ".function.arguments");
            writer.WriteEndObject();
            writer.WriteEndObject();
            any = true;
        }
        return any;
    }

    /// <summary>A tool message as a toolResult block (it sits in a user turn).</summary>
    public static void WriteToolResult(Utf8JsonWriter writer, JsonElement message, string param)
    {
        var id = String(message, "tool_call_id", param);
        writer.WriteStartObject();
        writer.WriteStartObject("toolResult"u8);
        writer.WriteString("toolUseId"u8, id);
        writer.WriteStartArray("content"u8);
        foreach (var text in Texts(message, param))
        {
            writer.WriteStartObject();
            writer.WriteString("text"u8, text);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The texts of a message whose content is a string, null, or text parts.</summary>
    public static IEnumerable<string> Texts(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null) yield break;
        if (content.ValueKind == JsonValueKind.String)
        {
            yield return content.GetString()!;
            yield break;
        }
        if (content.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'content' must be a string or an array of parts.", param + ".content");
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partParam = $"{param}.content[{i++}]";
            if (!part.TryGetProperty("type", out var type) || !type.ValueEquals("text"u8))
                throw CallRejectedException.Invalid("Only text parts are supported in this message for Bedrock.", partParam + ".type");
            yield return PartText(part, partParam);
        }
    }

    private static string PartText(JsonElement part, string param) =>
        part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
            ? text.GetString()!
            : throw CallRejectedException.Invalid("A text part needs 'text'.", param + ".text");

    private static void WriteText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    /// <summary>OpenAI carries arguments as a JSON string; Converse wants the object itself.</summary>
    private static void WriteArguments(Utf8JsonWriter writer, string arguments, string param)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw CallRejectedException.Unsupported("Tool call arguments must be a JSON object.", param);
            doc.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            throw CallRejectedException.Unsupported("Tool call arguments are not valid JSON.", param);
        }
    }

    internal static string String(JsonElement obj, string name, string param) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw CallRejectedException.Invalid($"'{name}' is required.", param + "." + name);
}
