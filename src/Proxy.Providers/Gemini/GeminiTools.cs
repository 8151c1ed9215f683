using System.Text.Json;

namespace Proxy.Providers.Gemini;

/// <summary>
/// OpenAI <c>tools</c> to one Gemini tool holding every <c>functionDeclarations</c> entry, and <c>tool_choice</c> to
/// <c>toolConfig.functionCallingConfig</c>: auto → AUTO, none → NONE, required → ANY, a named function → ANY limited
/// to <c>allowedFunctionNames</c>. Parameters go through <see cref="GeminiSchema"/>.
/// </summary>
internal static class GeminiTools
{
    public static void Write(JsonElement root, Utf8JsonWriter w, string providerType)
    {
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            w.WriteStartArray("tools"u8);
            w.WriteStartObject();
            w.WriteStartArray("functionDeclarations"u8);
            int i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                WriteDeclaration(tool, w, i++, providerType);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
        }

        if (root.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null) WriteToolConfig(choice, w, providerType);
    }

    private static void WriteDeclaration(JsonElement tool, Utf8JsonWriter w, int index, string providerType)
    {
        var type = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type != "function") throw CallRejectedException.Unsupported($"tools[{index}]: tool type '{type}' is not supported by provider type '{providerType}' (only function tools are).", $"tools[{index}].type");
        if (!tool.TryGetProperty("function", out var f) || f.ValueKind != JsonValueKind.Object
            || !f.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid($"tools[{index}] needs function.name.", $"tools[{index}].function.name");

        w.WriteStartObject();
        w.WriteString("name"u8, name.GetString());
        if (f.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) w.WriteString("description"u8, d.GetString());
        // A function without parameters must leave them out: Gemini rejects an OBJECT schema with no properties.
        if (f.TryGetProperty("parameters", out var parameters) && !GeminiSchema.IsEmptyObject(parameters))
        {
            w.WritePropertyName("parameters"u8);
            GeminiSchema.Write(parameters, w);
        }
        w.WriteEndObject();
    }

    private static void WriteToolConfig(JsonElement choice, Utf8JsonWriter w, string providerType)
    {
        string mode;
        string? only = null;
        if (choice.ValueKind == JsonValueKind.String)
        {
            mode = choice.GetString() switch
            {
                "auto" => "AUTO",
                "none" => "NONE",
                "required" => "ANY",
                var other => throw CallRejectedException.Unsupported($"tool_choice '{other}' is not one of auto, none, required.", "tool_choice"),
            };
        }
        else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("type", out var type) && type.ValueEquals("function")
                 && choice.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                 && f.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            mode = "ANY";
            only = name.GetString();
        }
        else
        {
            throw CallRejectedException.Unsupported($"This tool_choice is not supported by provider type '{providerType}': use auto, none, required or {{\"type\":\"function\",\"function\":{{\"name\":...}}}}.", "tool_choice");
        }

        w.WriteStartObject("toolConfig"u8);
        w.WriteStartObject("functionCallingConfig"u8);
        w.WriteString("mode"u8, mode);
        if (only is not null)
        {
            w.WriteStartArray("allowedFunctionNames"u8);
            w.WriteStringValue(only);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
