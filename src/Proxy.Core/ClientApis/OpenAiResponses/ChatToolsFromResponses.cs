using System.Text.Json;
using Proxy.Providers;
using static Proxy.ClientApis.OpenAiResponses.ResponsesJson;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// Responses tools, tool_choice and text.format in their chat shapes. Function tools are flat in Responses
/// (<c>{type, name, description, parameters, strict}</c>) and nested under <c>function</c> in chat. Built-in tools
/// (web search, file search, computer use, code interpreter, MCP...) run on OpenAI's side; no other provider has them,
/// so a request that offers one is refused rather than answered without it.
/// </summary>
internal static class ChatToolsFromResponses
{
    public static void WriteTools(JsonElement root, Utf8JsonWriter w)
    {
        if (!Present(root, "tools", out var tools)) return;
        if (tools.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'tools' must be an array.", "tools");
        if (tools.GetArrayLength() == 0) return;
        w.WriteStartArray("tools"u8);
        int i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            string path = $"tools[{i++}]";
            string? type = StringOf(tool, "type");
            if (type != "function")
                throw CallRejectedException.Unsupported(
                    $"The built-in tool '{type}' is not available with this provider; only function tools are translated.", path + ".type");
            if (StringOf(tool, "name") is null) throw CallRejectedException.Invalid("A function tool needs a 'name'.", path + ".name");
            w.WriteStartObject();
            w.WriteString("type"u8, "function"u8);
            w.WriteStartObject("function"u8);
            CopyIfPresent(tool, "name", w);
            CopyIfPresent(tool, "description", w);
            CopyIfPresent(tool, "parameters", w);
            CopyIfPresent(tool, "strict", w);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void WriteToolChoice(JsonElement root, Utf8JsonWriter w)
    {
        if (!Present(root, "tool_choice", out var choice)) return;
        if (choice.ValueKind == JsonValueKind.String)
        {
            if (!(choice.ValueEquals("none"u8) || choice.ValueEquals("auto"u8) || choice.ValueEquals("required"u8)))
                throw CallRejectedException.Invalid("'tool_choice' must be 'none', 'auto', 'required' or an object.", "tool_choice");
            w.WritePropertyName("tool_choice"u8);
            choice.WriteTo(w);
            return;
        }
        string? type = StringOf(choice, "type");
        if (type != "function")
            throw CallRejectedException.Unsupported($"tool_choice of type '{type}' is not supported with this provider; name a function, or use 'auto', 'required' or 'none'.",
                "tool_choice.type");
        if (StringOf(choice, "name") is null) throw CallRejectedException.Invalid("A function tool_choice needs a 'name'.", "tool_choice.name");
        w.WriteStartObject("tool_choice"u8);
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        CopyIfPresent(choice, "name", w);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>text.format as response_format (json_schema's fields move under <c>json_schema</c>), and text.verbosity as verbosity.</summary>
    public static void WriteTextFormat(JsonElement root, Utf8JsonWriter w)
    {
        if (!Present(root, "text", out var text)) return;
        if (text.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("'text' must be an object.", "text");
        if (Present(text, "format", out var format))
        {
            string? type = StringOf(format, "type");
            switch (type)
            {
                case "text" or "json_object":
                    w.WriteStartObject("response_format"u8);
                    w.WriteString("type"u8, type);
                    w.WriteEndObject();
                    break;
                case "json_schema":
                    if (StringOf(format, "name") is null) throw CallRejectedException.Invalid("A json_schema format needs a 'name'.", "text.format.name");
                    if (!Present(format, "schema", out _)) throw CallRejectedException.Invalid("A json_schema format needs a 'schema'.", "text.format.schema");
                    w.WriteStartObject("response_format"u8);
                    w.WriteString("type"u8, "json_schema"u8);
                    w.WriteStartObject("json_schema"u8);
                    CopyIfPresent(format, "name", w);
                    CopyIfPresent(format, "description", w);
                    CopyIfPresent(format, "schema", w);
                    CopyIfPresent(format, "strict", w);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    break;
                default:
                    throw CallRejectedException.Invalid("text.format.type must be 'text', 'json_object' or 'json_schema'.", "text.format.type");
            }
        }
        CopyIfPresent(text, "verbosity", w);
    }
}
