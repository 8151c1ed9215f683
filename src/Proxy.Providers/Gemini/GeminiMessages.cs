using System.Text.Json;

namespace Proxy.Providers.Gemini;

/// <summary>
/// OpenAI <c>messages</c> to Gemini <c>contents</c> (roles user / model) and <c>systemInstruction</c>.
/// System and developer messages, wherever they stand, become the system instruction. Consecutive messages that
/// map to the same Gemini role are merged into one content, which is how Gemini expects the results of parallel
/// tool calls (all functionResponse parts in one user turn).
/// </summary>
internal static class GeminiMessages
{
    public static void Write(JsonElement root, Utf8JsonWriter w, string providerType)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw CallRejectedException.Invalid("'messages' must be a non-empty array.", "messages");

        var toolNames = ToolNames(messages);
        List<JsonElement>? system = null;
        var contents = new ContentsWriter(w);
        w.WriteStartArray("contents"u8);
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid($"messages[{index}] must be an object.", $"messages[{index}]");
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            message.TryGetProperty("content", out var content);
            switch (role)
            {
                case "system" or "developer":
                    (system ??= []).Add(content);
                    break;
                case "user":
                    WriteUserContent(content, contents, index, providerType);
                    break;
                case "assistant":
                    WriteAssistant(message, content, contents, index);
                    break;
                case "tool":
                    var id = message.TryGetProperty("tool_call_id", out var tid) && tid.ValueKind == JsonValueKind.String ? tid.GetString()! : "";
                    if (!toolNames.TryGetValue(id, out var name))
                        throw CallRejectedException.Invalid($"messages[{index}]: tool_call_id '{id}' matches no tool call of an earlier assistant message; Gemini needs the function's name.", $"messages[{index}].tool_call_id");
                    WriteFunctionResponse(contents, name, content);
                    break;
                case "function":
                    // The legacy function-calling shape names the function itself.
                    var fname = message.TryGetProperty("name", out var fn) && fn.ValueKind == JsonValueKind.String ? fn.GetString()! : "";
                    WriteFunctionResponse(contents, fname, content);
                    break;
                default:
                    throw CallRejectedException.Invalid($"messages[{index}]: role '{role}' is not one of system, developer, user, assistant, tool.", $"messages[{index}].role");
            }
            index++;
        }
        contents.Close();
        w.WriteEndArray();
        if (system is not null) WriteSystemInstruction(system, w);
    }

    /// <summary>tool_call_id to function name, from every assistant message's tool_calls.</summary>
    private static Dictionary<string, string> ToolNames(JsonElement messages)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array) continue;
            foreach (var call in calls.EnumerateArray())
            {
                if (call.ValueKind == JsonValueKind.Object && call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                    && call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                    && f.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                    names[id.GetString()!] = name.GetString()!;
            }
        }
        return names;
    }

    private static void WriteSystemInstruction(List<JsonElement> system, Utf8JsonWriter w)
    {
        bool any = false;
        foreach (var content in system)
        {
            foreach (var text in Texts(content, "system"))
            {
                if (!any)
                {
                    w.WriteStartObject("systemInstruction"u8);
                    w.WriteStartArray("parts"u8);
                    any = true;
                }
                w.WriteStartObject();
                w.WriteString("text"u8, text);
                w.WriteEndObject();
            }
        }
        if (!any) return;
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteUserContent(JsonElement content, ContentsWriter contents, int index, string providerType)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteText(contents, GeminiRole.User, content.GetString());
            return;
        }
        if (content.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid($"messages[{index}].content must be a string or an array of content parts.", $"messages[{index}].content");
        foreach (var part in content.EnumerateArray())
        {
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "text":
                    WriteText(contents, GeminiRole.User, part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null);
                    break;
                case "image_url":
                    GeminiMedia.WriteImage(contents.Part(GeminiRole.User), ImageUrl(part, index), index);
                    contents.EndPart();
                    break;
                case "input_audio":
                    GeminiMedia.WriteAudio(contents.Part(GeminiRole.User), part, index);
                    contents.EndPart();
                    break;
                case "file":
                    GeminiMedia.WriteFile(contents.Part(GeminiRole.User), part, index, providerType);
                    contents.EndPart();
                    break;
                default:
                    throw CallRejectedException.Unsupported($"messages[{index}]: content part type '{type}' is not supported by provider type '{providerType}' (text, image_url, input_audio, file are).", $"messages[{index}].content");
            }
        }
    }

    private static string ImageUrl(JsonElement part, int index)
    {
        if (part.TryGetProperty("image_url", out var image))
        {
            if (image.ValueKind == JsonValueKind.String) return image.GetString()!;
            if (image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String) return url.GetString()!;
        }
        throw CallRejectedException.Invalid($"messages[{index}]: an image_url part needs image_url.url.", $"messages[{index}].content");
    }

    private static void WriteAssistant(JsonElement message, JsonElement content, ContentsWriter contents, int index)
    {
        foreach (var text in Texts(content, "assistant")) WriteText(contents, GeminiRole.Model, text);
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array) return;
        int i = 0;
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var f) || f.ValueKind != JsonValueKind.Object
                || !f.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                throw CallRejectedException.Invalid($"messages[{index}].tool_calls[{i}] needs function.name.", $"messages[{index}].tool_calls[{i}].function.name");
            var w = contents.Part(GeminiRole.Model);
            w.WriteStartObject("functionCall"u8);
            w.WriteString("name"u8, name.GetString());
            w.WritePropertyName("args"u8);
            WriteArguments(f, w, index, i);
            w.WriteEndObject();
            // Gemini 3 refuses a replayed function call without the signature it came with; the id carried it.
            if (call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && ToolCallIds.Signature(id.GetString()!) is { Length: > 0 } signature)
                w.WriteString("thoughtSignature"u8, signature);
            contents.EndPart();
            i++;
        }
    }

    /// <summary>OpenAI sends arguments as a JSON string; Gemini wants the object.</summary>
    private static void WriteArguments(JsonElement function, Utf8JsonWriter w, int index, int call)
    {
        var raw = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            w.WriteStartObject();
            w.WriteEndObject();
            return;
        }
        try
        {
            using var args = JsonDocument.Parse(raw);
            if (args.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
            args.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            throw CallRejectedException.Unsupported($"messages[{index}].tool_calls[{call}].function.arguments must be a JSON object in a string.", $"messages[{index}].tool_calls[{call}].function.arguments");
        }
    }

    /// <summary>
    /// Gemini's response is an object: a JSON object result goes as it is (Gemini reads the whole object as the output);
    /// anything else is wrapped as {"output": ...}, the key Gemini's documentation names for a function's output.
    /// </summary>
    private static void WriteFunctionResponse(ContentsWriter contents, string name, JsonElement content)
    {
        var text = string.Concat(Texts(content, "tool"));
        var w = contents.Part(GeminiRole.User);
        w.WriteStartObject("functionResponse"u8);
        w.WriteString("name"u8, name);
        w.WritePropertyName("response"u8);
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                using var parsed = JsonDocument.Parse(text);
                if (parsed.RootElement.ValueKind == JsonValueKind.Object) parsed.RootElement.WriteTo(w);
                else
                {
                    w.WriteStartObject();
                    w.WritePropertyName("output"u8);
                    parsed.RootElement.WriteTo(w);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                contents.EndPart();
                return;
            }
            catch (JsonException)
            {
                // Looked like JSON but is not: it is sent as the text it is.
            }
        }
        w.WriteStartObject();
        w.WriteString("output"u8, text);
        w.WriteEndObject();
        w.WriteEndObject();
        contents.EndPart();
    }

    private static void WriteText(ContentsWriter contents, string role, string? text)
    {
        // Gemini rejects empty text parts; an empty message carries nothing anyway.
        if (string.IsNullOrEmpty(text)) return;
        contents.Part(role).WriteString("text"u8, text);
        contents.EndPart();
    }

    /// <summary>The texts of a string content or of an array of text (and refusal) parts; other part types are refused here.</summary>
    private static IEnumerable<string> Texts(JsonElement content, string role)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            yield return content.GetString()!;
            yield break;
        }
        if (content.ValueKind != JsonValueKind.Array) yield break;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object) continue;
            var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var key = type == "refusal" ? "refusal" : "text";
            if (type is not ("text" or "refusal")) throw CallRejectedException.Invalid($"A {role} message may only hold text parts (got '{type}').");
            if (part.TryGetProperty(key, out var text) && text.ValueKind == JsonValueKind.String && text.GetString() is { Length: > 0 } s) yield return s;
        }
    }
}

internal static class GeminiRole
{
    public const string User = "user";
    public const string Model = "model";
}

/// <summary>
/// Writes <c>{"role":..,"parts":[..]}</c> entries, opening a new one only when the role changes, so messages that
/// produce no part leave no empty content behind (Gemini rejects those).
/// </summary>
internal sealed class ContentsWriter(Utf8JsonWriter w)
{
    private string? _role;

    /// <summary>Opens a part object under <paramref name="role"/>; the caller writes its fields, then calls <see cref="EndPart"/>.</summary>
    public Utf8JsonWriter Part(string role)
    {
        if (!string.Equals(_role, role, StringComparison.Ordinal))
        {
            Close();
            w.WriteStartObject();
            w.WriteString("role"u8, role);
            w.WriteStartArray("parts"u8);
            _role = role;
        }
        w.WriteStartObject();
        return w;
    }

    public void EndPart() => w.WriteEndObject();

    public void Close()
    {
        if (_role is null) return;
        w.WriteEndArray();
        w.WriteEndObject();
        _role = null;
    }
}
