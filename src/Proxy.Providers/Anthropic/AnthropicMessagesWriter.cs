using System.Text.Json;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// OpenAI <c>messages</c> to Anthropic's top-level <c>system</c> and alternating user/assistant <c>messages</c>:
/// system and developer messages (wherever they are) become <c>system</c>; tool messages become tool_result blocks
/// of a user turn, and consecutive messages of one side are merged into one turn, tool results first, since Anthropic
/// wants every result of an assistant turn's tool calls at the start of the next user turn.
/// </summary>
internal static class AnthropicMessagesWriter
{
    public static void Write(JsonElement messages, Utf8JsonWriter w)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'messages' must be an array.", "messages");
        var system = new List<int>();
        var turns = new List<Turn>();
        var all = new List<JsonElement>(messages.GetArrayLength());
        foreach (var m in messages.EnumerateArray()) all.Add(m);

        for (int i = 0; i < all.Count; i++)
        {
            var m = all[i];
            if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw CallRejectedException.Invalid("Each message needs a 'role'.", $"messages[{i}].role");
            if (role.ValueEquals("system"u8) || role.ValueEquals("developer"u8)) system.Add(i);
            else if (role.ValueEquals("user"u8) || role.ValueEquals("tool"u8)) AddTo(turns, assistant: false, i);
            else if (role.ValueEquals("assistant"u8))
            {
                // An assistant message with nothing in it (content "" and no tool calls) would be refused by Anthropic.
                if (HasAssistantContent(m)) AddTo(turns, assistant: true, i);
            }
            else if (role.ValueEquals("function"u8))
                throw CallRejectedException.Unsupported("The deprecated 'function' role is not translated; use tool messages.", $"messages[{i}].role");
            else throw CallRejectedException.Invalid($"Unknown role '{role.GetString()}'.", $"messages[{i}].role");
        }

        WriteSystem(all, system, w);
        w.WriteStartArray("messages"u8);
        foreach (var turn in turns)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, turn.Assistant ? "assistant"u8 : "user"u8);
            if (turn.Assistant) WriteAssistant(all, turn.Messages, w);
            else WriteUser(all, turn.Messages, w);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private sealed record Turn(bool Assistant, List<int> Messages);

    private static void AddTo(List<Turn> turns, bool assistant, int i)
    {
        if (turns.Count > 0 && turns[^1].Assistant == assistant) turns[^1].Messages.Add(i);
        else turns.Add(new Turn(assistant, [i]));
    }

    private static void WriteSystem(List<JsonElement> all, List<int> system, Utf8JsonWriter w)
    {
        if (system.Count == 0) return;
        if (system.Count == 1 && all[system[0]].TryGetProperty("content", out var only) && only.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName("system"u8);
            only.WriteTo(w);
            return;
        }
        w.WriteStartArray("system"u8);
        foreach (var i in system)
        {
            if (!all[i].TryGetProperty("content", out var content)) continue;
            if (content.ValueKind == JsonValueKind.String) ContentParts.WriteText(content, w);
            else if (content.ValueKind == JsonValueKind.Array)
            {
                int j = 0;
                foreach (var part in content.EnumerateArray()) ContentParts.WriteTextPart(part, $"messages[{i}].content[{j++}]", w);
            }
            else throw CallRejectedException.Invalid("System message content must be a string or an array of text parts.", $"messages[{i}].content");
        }
        w.WriteEndArray();
    }

    /// <summary>A user turn: the tool results first, then what the user wrote. One plain-text message stays a string.</summary>
    private static void WriteUser(List<JsonElement> all, List<int> messages, Utf8JsonWriter w)
    {
        if (messages.Count == 1 && all[messages[0]].TryGetProperty("content", out var only) && only.ValueKind == JsonValueKind.String
            && all[messages[0]].GetProperty("role").ValueEquals("user"u8))
        {
            w.WritePropertyName("content"u8);
            only.WriteTo(w);
            return;
        }
        w.WriteStartArray("content"u8);
        foreach (var i in messages)
        {
            if (all[i].GetProperty("role").ValueEquals("tool"u8)) WriteToolResult(all[i], i, w);
        }
        foreach (var i in messages)
        {
            var m = all[i];
            if (m.GetProperty("role").ValueEquals("tool"u8)) continue;
            if (!m.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
                throw CallRejectedException.Invalid("A user message needs 'content'.", $"messages[{i}].content");
            if (content.ValueKind == JsonValueKind.String) ContentParts.WriteText(content, w);
            else if (content.ValueKind == JsonValueKind.Array)
            {
                int j = 0;
                foreach (var part in content.EnumerateArray()) ContentParts.WriteUserPart(part, $"messages[{i}].content[{j++}]", w);
            }
            else throw CallRejectedException.Invalid("Message content must be a string or an array of parts.", $"messages[{i}].content");
        }
        w.WriteEndArray();
    }

    private static void WriteToolResult(JsonElement m, int i, Utf8JsonWriter w)
    {
        if (!m.TryGetProperty("tool_call_id", out var id) || id.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid("A tool message needs 'tool_call_id'.", $"messages[{i}].tool_call_id");
        w.WriteStartObject();
        w.WriteString("type"u8, "tool_result"u8);
        w.WritePropertyName("tool_use_id"u8);
        id.WriteTo(w);
        if (m.TryGetProperty("content", out var content) && content.ValueKind != JsonValueKind.Null)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                w.WritePropertyName("content"u8);
                content.WriteTo(w);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                w.WriteStartArray("content"u8);
                int j = 0;
                foreach (var part in content.EnumerateArray()) ContentParts.WriteTextPart(part, $"messages[{i}].content[{j++}]", w);
                w.WriteEndArray();
            }
            else throw CallRejectedException.Invalid("Tool message content must be a string or an array of text parts.", $"messages[{i}].content");
        }
        w.WriteEndObject();
    }

    private static bool HasAssistantContent(JsonElement m)
    {
        if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0) return true;
        if (!m.TryGetProperty("content", out var content)) return false;
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!.Length > 0;
        if (content.ValueKind != JsonValueKind.Array) return false;
        foreach (var part in content.EnumerateArray())
        {
            if (ContentParts.AssistantText(part) is { Length: > 0 }) return true;
        }
        return false;
    }

    /// <summary>An assistant turn: its text, then a tool_use block per tool call. One plain-text message stays a string.</summary>
    private static void WriteAssistant(List<JsonElement> all, List<int> messages, Utf8JsonWriter w)
    {
        var first = all[messages[0]];
        if (messages.Count == 1 && first.TryGetProperty("content", out var only) && only.ValueKind == JsonValueKind.String
            && !(first.TryGetProperty("tool_calls", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0))
        {
            w.WritePropertyName("content"u8);
            only.WriteTo(w);
            return;
        }
        w.WriteStartArray("content"u8);
        foreach (var i in messages)
        {
            var m = all[i];
            if (m.TryGetProperty("content", out var content))
            {
                if (content.ValueKind == JsonValueKind.String)
                {
                    if (content.GetString()!.Length > 0) ContentParts.WriteText(content, w);
                }
                else if (content.ValueKind == JsonValueKind.Array)
                {
                    int j = 0;
                    foreach (var part in content.EnumerateArray())
                    {
                        if (ContentParts.AssistantText(part) is not { } text)
                            throw CallRejectedException.Invalid("Assistant content parts must be text or refusal.", $"messages[{i}].content[{j}]");
                        if (text.Length > 0)
                        {
                            w.WriteStartObject();
                            w.WriteString("type"u8, "text"u8);
                            w.WriteString("text"u8, text);
                            w.WriteEndObject();
                        }
                        j++;
                    }
                }
                else if (content.ValueKind != JsonValueKind.Null)
                    throw CallRejectedException.Invalid("Message content must be a string or an array of parts.", $"messages[{i}].content");
            }
            if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                int k = 0;
                foreach (var call in calls.EnumerateArray()) WriteToolUse(call, $"messages[{i}].tool_calls[{k++}]", w);
            }
        }
        w.WriteEndArray();
    }

    private static void WriteToolUse(JsonElement call, string path, Utf8JsonWriter w)
    {
        if (call.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("A tool call must be an object.", path);
        if (call.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && !type.ValueEquals("function"u8))
            throw CallRejectedException.Unsupported("Only 'function' tool calls can be sent to Anthropic models.", path + ".type");
        if (!call.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid("A tool call needs an 'id'.", path + ".id");
        if (!call.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
            || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid("A tool call needs 'function.name'.", path + ".function.name");
        w.WriteStartObject();
        w.WriteString("type"u8, "tool_use"u8);
        w.WritePropertyName("id"u8);
        id.WriteTo(w);
        w.WritePropertyName("name"u8);
        name.WriteTo(w);
        w.WritePropertyName("input"u8);
        WriteArguments(fn, path + ".function.arguments", w);
        w.WriteEndObject();
    }

    /// <summary>OpenAI carries a call's arguments as a JSON string; Anthropic wants the object itself.</summary>
    private static void WriteArguments(JsonElement fn, string path, Utf8JsonWriter w)
    {
        string? text = fn.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.String ? args.GetString() : null;
        if (string.IsNullOrWhiteSpace(text))
        {
            w.WriteStartObject();
            w.WriteEndObject();
            return;
        }
        try
        {
            using var parsed = JsonDocument.Parse(text);
            if (parsed.RootElement.ValueKind != JsonValueKind.Object)
                throw CallRejectedException.Unsupported("Tool call arguments must be a JSON object for Anthropic models.", path);
            parsed.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            throw CallRejectedException.Unsupported("Tool call arguments are not valid JSON; Anthropic models need them as an object.", path);
        }
    }
}
