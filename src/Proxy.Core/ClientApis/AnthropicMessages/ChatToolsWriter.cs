using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Anthropic's client tools as OpenAI function tools (input_schema is the parameters' JSON schema, as it is), and
/// tool_choice as OpenAI's. Anthropic's own tools (web search, bash, text editor, computer use, code execution...) run
/// on Anthropic's side or follow schemas only Claude knows, so they are refused, never dropped.
/// </summary>
internal static class ChatToolsWriter
{
    public static void Write(JsonElement tools, JsonElement toolChoice, Utf8JsonWriter w)
    {
        if (!RawJson.IsSet(tools)) return;
        if (tools.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'tools' must be an array.", "tools");
        if (tools.GetArrayLength() == 0) return; // OpenAI refuses an empty tools array, and tool_choice without tools
        var root = new ParamPath("tools");
        w.WriteStartArray("tools"u8);
        int j = 0;
        foreach (var tool in tools.EnumerateArray()) WriteTool(tool, root.Item(j++), w);
        w.WriteEndArray();
        WriteChoice(toolChoice, w);
    }

    private static void WriteTool(JsonElement tool, ParamPath path, Utf8JsonWriter w)
    {
        if (tool.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid($"'{path}' must be an object.", path.ToString());
        if (tool.TryGetProperty("type", out var type) && RawJson.IsSet(type) && !type.ValueEquals("custom"u8))
        {
            throw CallRejectedException.Unsupported(
                $"Anthropic's built-in tool '{(type.ValueKind == JsonValueKind.String ? type.GetString() : type.GetRawText())}' has no equivalent on this route's provider.",
                path.Field("type"));
        }
        var name = RawJson.RequireString(tool, "name", path);
        if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
            throw CallRejectedException.Invalid($"'{path.Field("input_schema")}' must be a JSON schema object.", path.Field("input_schema"));
        w.WriteStartObject();
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        RawJson.Copy(w, "name"u8, name);
        if (tool.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
            RawJson.Copy(w, "description"u8, description);
        RawJson.Copy(w, "parameters"u8, schema);
        // Anthropic's strict tool use and OpenAI's strict function calling promise the same: inputs that match the schema.
        if (tool.TryGetProperty("strict", out var strict) && strict.ValueKind is JsonValueKind.True or JsonValueKind.False)
            RawJson.Copy(w, "strict"u8, strict);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>auto, any, tool, none as auto, required, the named function, none; disable_parallel_tool_use as parallel_tool_calls false.</summary>
    private static void WriteChoice(JsonElement choice, Utf8JsonWriter w)
    {
        if (!RawJson.IsSet(choice)) return;
        var root = new ParamPath("tool_choice");
        if (choice.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("'tool_choice' must be an object.", "tool_choice");
        var type = RawJson.RequireString(choice, "type", root);
        if (type.ValueEquals("auto"u8)) w.WriteString("tool_choice"u8, "auto"u8);
        else if (type.ValueEquals("any"u8)) w.WriteString("tool_choice"u8, "required"u8);
        else if (type.ValueEquals("none"u8)) w.WriteString("tool_choice"u8, "none"u8);
        else if (type.ValueEquals("tool"u8))
        {
            var name = RawJson.RequireString(choice, "name", root);
            w.WriteStartObject("tool_choice"u8);
            w.WriteString("type"u8, "function"u8);
            w.WriteStartObject("function"u8);
            RawJson.Copy(w, "name"u8, name);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        else throw CallRejectedException.Invalid("'tool_choice.type' must be 'auto', 'any', 'tool' or 'none'.", "tool_choice.type");
        if (choice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True)
            w.WriteBoolean("parallel_tool_calls"u8, false);
    }
}
