using System.Text.Json;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// OpenAI <c>tools</c> (function tools only), <c>tool_choice</c> and <c>parallel_tool_calls</c> to Anthropic's
/// <c>tools</c> and <c>tool_choice</c>: auto → auto, none → none, required → any, a named function → tool;
/// parallel_tool_calls: false → disable_parallel_tool_use: true.
/// </summary>
internal static class AnthropicToolsWriter
{
    public static void Write(JsonElement root, Utf8JsonWriter w)
    {
        bool hasTools = AnthropicRequestWriter.Present(root, "tools", out var tools);
        if (hasTools)
        {
            if (tools.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'tools' must be an array.", "tools");
            w.WriteStartArray("tools"u8);
            int i = 0;
            foreach (var tool in tools.EnumerateArray()) WriteTool(tool, i++, w);
            w.WriteEndArray();
        }

        bool serial = AnthropicRequestWriter.Present(root, "parallel_tool_calls", out var parallel) && parallel.ValueKind == JsonValueKind.False;
        if (AnthropicRequestWriter.Present(root, "tool_choice", out var choice)) WriteChoice(choice, serial && hasTools, w);
        else if (serial && hasTools)
        {
            // OpenAI's default choice is auto; Anthropic carries the parallel switch on the choice.
            w.WriteStartObject("tool_choice"u8);
            w.WriteString("type"u8, "auto"u8);
            w.WriteBoolean("disable_parallel_tool_use"u8, true);
            w.WriteEndObject();
        }
    }

    private static void WriteTool(JsonElement tool, int i, Utf8JsonWriter w)
    {
        if (tool.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("Each tool must be an object.", $"tools[{i}]");
        if (!tool.TryGetProperty("type", out var type) || !type.ValueEquals("function"u8))
            throw CallRejectedException.Unsupported("Only 'function' tools can be sent to Anthropic models.", $"tools[{i}].type");
        if (!tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
            || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid("A function tool needs 'function.name'.", $"tools[{i}].function.name");

        w.WriteStartObject();
        w.WritePropertyName("name"u8);
        name.WriteTo(w);
        if (AnthropicRequestWriter.Present(fn, "description", out var description))
        {
            w.WritePropertyName("description"u8);
            description.WriteTo(w);
        }
        w.WritePropertyName("input_schema"u8);
        if (AnthropicRequestWriter.Present(fn, "parameters", out var parameters)) parameters.WriteTo(w);
        else
        {
            // OpenAI allows a function without parameters; Anthropic requires an object schema.
            w.WriteStartObject();
            w.WriteString("type"u8, "object"u8);
            w.WriteStartObject("properties"u8);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (fn.TryGetProperty("strict", out var strict) && strict.ValueKind == JsonValueKind.True) w.WriteBoolean("strict"u8, true);
        if (AnthropicRequestWriter.Present(tool, "cache_control", out var cache))
        {
            w.WritePropertyName("cache_control"u8);
            cache.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void WriteChoice(JsonElement choice, bool serial, Utf8JsonWriter w)
    {
        w.WriteStartObject("tool_choice"u8);
        if (choice.ValueKind == JsonValueKind.String)
        {
            if (choice.ValueEquals("auto"u8)) w.WriteString("type"u8, "auto"u8);
            else if (choice.ValueEquals("required"u8)) w.WriteString("type"u8, "any"u8);
            else if (choice.ValueEquals("none"u8))
            {
                w.WriteString("type"u8, "none"u8);
                serial = false; // not allowed on "none", and meaningless there
            }
            else throw CallRejectedException.Invalid($"tool_choice '{choice.GetString()}' is not one of none, auto, required.", "tool_choice");
        }
        else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("type", out var type) && type.ValueEquals("function"u8)
                 && choice.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object
                 && fn.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            w.WriteString("type"u8, "tool"u8);
            w.WritePropertyName("name"u8);
            name.WriteTo(w);
        }
        else
        {
            throw CallRejectedException.Unsupported(
                "tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}} for Anthropic models.", "tool_choice");
        }
        if (serial) w.WriteBoolean("disable_parallel_tool_use"u8, true);
        w.WriteEndObject();
    }
}
