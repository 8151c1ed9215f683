using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>OpenAI tools and tool_choice as Converse's toolConfig.</summary>
internal static class Tools
{
    public static void Write(Utf8JsonWriter writer, JsonElement root, bool historyHasToolBlocks)
    {
        root.TryGetProperty("tools", out var tools);
        bool hasTools = tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        if (tools.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Array))
            throw CallRejectedException.Invalid("'tools' must be an array.", "tools");
        root.TryGetProperty("tool_choice", out var choice);
        bool none = choice.ValueKind == JsonValueKind.String && choice.ValueEquals("none"u8);
        if (!hasTools) return;
        // Converse has no "none". Without tool blocks in the history the tools are simply not offered; with them,
        // Converse insists on toolConfig, so the tools go with no choice (the model decides, as with "auto").
        if (none && !historyHasToolBlocks) return;

        writer.WriteStartObject("toolConfig"u8);
        writer.WriteStartArray("tools"u8);
        int i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var param = $"tools[{i++}]";
            if (!tool.TryGetProperty("type", out var type) || !type.ValueEquals("function"u8))
                throw CallRejectedException.Unsupported("Only function tools are supported for Bedrock.", param + ".type");
            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw CallRejectedException.Invalid("A function tool needs 'function'.", param + ".function");
            writer.WriteStartObject();
            writer.WriteStartObject("toolSpec"u8);
            writer.WriteString("name"u8, Content.String(function, "name", param + ".function"));
            if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String && description.GetString() is { Length: > 0 } d)
                writer.WriteString("description"u8, d);
            writer.WriteStartObject("inputSchema"u8);
            writer.WritePropertyName("json"u8);
            if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object) parameters.WriteTo(writer);
            else
            {
                // A function without parameters still needs a schema in Converse.
                writer.WriteStartObject();
                writer.WriteString("type"u8, "object"u8);
                writer.WriteStartObject("properties"u8);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        if (!none) WriteChoice(writer, choice);
        writer.WriteEndObject();
    }

    private static void WriteChoice(Utf8JsonWriter writer, JsonElement choice)
    {
        if (choice.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return;
        if (choice.ValueKind == JsonValueKind.String)
        {
            var name = choice.ValueEquals("auto"u8) ? "auto"u8 : choice.ValueEquals("required"u8) ? "any"u8
                : throw CallRejectedException.Invalid($"tool_choice '{choice.GetString()}' is not one of none, auto, required.", "tool_choice");
            writer.WriteStartObject("toolChoice"u8);
            writer.WriteStartObject(name);
            writer.WriteEndObject();
            writer.WriteEndObject();
            return;
        }
        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object)
        {
            writer.WriteStartObject("toolChoice"u8);
            writer.WriteStartObject("tool"u8);
            writer.WriteString("name"u8, Content.String(function, "name", "tool_choice.function"));
            writer.WriteEndObject();
            writer.WriteEndObject();
            return;
        }
        throw CallRejectedException.Unsupported("tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}.", "tool_choice");
    }
}
