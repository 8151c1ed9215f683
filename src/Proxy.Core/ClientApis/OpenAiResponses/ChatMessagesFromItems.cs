using System.Text.Json;
using Proxy.Providers;
using static Proxy.ClientApis.OpenAiResponses.ResponsesJson;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// Responses input items as chat messages, written one item at a time into the request's <c>messages</c> array.
/// Messages keep their role (developer included: every adapter reads it as system); function_call items become the
/// tool_calls of one assistant message, together with the assistant text just before them (a model turn that said
/// something and then called tools is one chat message); function_call_output items become tool messages; reasoning
/// items are dropped (their text is the model's, and no provider takes another's reasoning back). Anything else
/// (built-in tool calls, item references) cannot be expressed and is refused.
/// </summary>
internal sealed class ChatMessagesFromItems(Utf8JsonWriter w)
{
    // The assistant turn being gathered: its texts (JSON strings) and tool calls (function_call items).
    private readonly List<JsonElement> _assistantTexts = [];
    private readonly List<JsonElement> _assistantCalls = [];

    public int Written { get; private set; }

    /// <summary>Input given as one string: a user message.</summary>
    public void UserText(JsonElement text)
    {
        Flush();
        w.WriteStartObject();
        w.WriteString("role"u8, "user"u8);
        w.WritePropertyName("content"u8);
        text.WriteTo(w);
        w.WriteEndObject();
        Written++;
    }

    /// <summary>One input item; <paramref name="path"/> names it in errors (<c>input[3]</c>).</summary>
    public void Item(JsonElement item, string path)
    {
        if (item.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("Each input item must be an object.", path);
        string? type = StringOf(item, "type");
        switch (type)
        {
            case null or "message":
                Message(item, path);
                break;
            case "function_call":
                Require(item, "call_id", path);
                Require(item, "name", path);
                Require(item, "arguments", path);
                _assistantCalls.Add(item);
                break;
            case "function_call_output":
                FunctionCallOutput(item, path);
                break;
            case "reasoning":
                break;
            case "item_reference":
                throw CallRejectedException.Unsupported(
                    "Item references cannot be resolved for this provider; send the item itself, or continue with previous_response_id.", path);
            default:
                throw CallRejectedException.Unsupported(
                    $"Input items of type '{type}' come from built-in tools, which this provider does not have; only messages, function calls and their outputs are translated.",
                    path + ".type");
        }
    }

    /// <summary>Writes the assistant turn being gathered, if any.</summary>
    public void Flush()
    {
        if (_assistantTexts.Count == 0 && _assistantCalls.Count == 0) return;
        w.WriteStartObject();
        w.WriteString("role"u8, "assistant"u8);
        w.WritePropertyName("content"u8);
        if (_assistantTexts.Count == 0) w.WriteNullValue();
        else if (_assistantTexts.Count == 1) _assistantTexts[0].WriteTo(w);
        else
        {
            w.WriteStartArray();
            foreach (var text in _assistantTexts) TextPart(text);
            w.WriteEndArray();
        }
        if (_assistantCalls.Count > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var call in _assistantCalls)
            {
                w.WriteStartObject();
                w.WritePropertyName("id"u8);
                call.GetProperty("call_id").WriteTo(w);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WritePropertyName("name"u8);
                call.GetProperty("name").WriteTo(w);
                w.WritePropertyName("arguments"u8);
                call.GetProperty("arguments").WriteTo(w);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        Written++;
        _assistantTexts.Clear();
        _assistantCalls.Clear();
    }

    private void Message(JsonElement item, string path)
    {
        string? role = StringOf(item, "role");
        if (!Present(item, "content", out var content)) throw CallRejectedException.Invalid("A message needs 'content'.", path + ".content");
        if (role == "assistant")
        {
            // Text after tool calls starts a new turn: chat puts a message's text before its calls.
            if (_assistantCalls.Count > 0) Flush();
            AssistantTexts(content, path + ".content");
            return;
        }
        if (role is not ("user" or "system" or "developer"))
            throw CallRejectedException.Invalid("A message's role must be 'user', 'assistant', 'system' or 'developer'.", path + ".role");
        Flush();
        w.WriteStartObject();
        w.WriteString("role"u8, role);
        w.WritePropertyName("content"u8);
        if (content.ValueKind == JsonValueKind.String) content.WriteTo(w);
        else if (content.ValueKind == JsonValueKind.Array) Parts(content, path + ".content", textOnly: role != "user");
        else throw CallRejectedException.Invalid("A message's content must be a string or an array of parts.", path + ".content");
        w.WriteEndObject();
        Written++;
    }

    /// <summary>An assistant message's text, gathered for its turn: output_text (or input_text) parts, and refusals as text.</summary>
    private void AssistantTexts(JsonElement content, string path)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            _assistantTexts.Add(content);
            return;
        }
        if (content.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("A message's content must be a string or an array of parts.", path);
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partPath = $"{path}[{i++}]";
            string? type = StringOf(part, "type");
            string field = type == "refusal" ? "refusal" : "text";
            if (type is not ("output_text" or "input_text" or "refusal"))
                throw CallRejectedException.Unsupported($"Assistant content of type '{type}' cannot be sent to this provider; only text is.", partPath + ".type");
            if (!Present(part, field, out var text) || text.ValueKind != JsonValueKind.String)
                throw CallRejectedException.Invalid($"A {type} part needs '{field}' as a string.", $"{partPath}.{field}");
            _assistantTexts.Add(text);
        }
    }

    private void FunctionCallOutput(JsonElement item, string path)
    {
        Flush();
        Require(item, "call_id", path);
        if (!Present(item, "output", out var output)) throw CallRejectedException.Invalid("A function_call_output needs 'output'.", path + ".output");
        w.WriteStartObject();
        w.WriteString("role"u8, "tool"u8);
        w.WritePropertyName("tool_call_id"u8);
        item.GetProperty("call_id").WriteTo(w);
        w.WritePropertyName("content"u8);
        if (output.ValueKind == JsonValueKind.String) output.WriteTo(w);
        else if (output.ValueKind == JsonValueKind.Array) Parts(output, path + ".output", textOnly: true);
        else throw CallRejectedException.Invalid("A function_call_output's output must be a string or an array of parts.", path + ".output");
        w.WriteEndObject();
        Written++;
    }

    /// <summary>
    /// Responses content parts as chat content parts: text as text, images by URL (or data URL) as image_url, inline
    /// files (file_data) as file parts. A file_id refers to OpenAI's own storage, which no other provider can read.
    /// Chat allows only text in system, developer and tool content (<paramref name="textOnly"/>).
    /// </summary>
    private void Parts(JsonElement parts, string path, bool textOnly)
    {
        w.WriteStartArray();
        int i = 0;
        foreach (var part in parts.EnumerateArray())
        {
            string partPath = $"{path}[{i++}]";
            string? type = StringOf(part, "type");
            if (type is "input_text" or "output_text")
            {
                if (!Present(part, "text", out var text) || text.ValueKind != JsonValueKind.String)
                    throw CallRejectedException.Invalid("A text part needs 'text' as a string.", partPath + ".text");
                TextPart(text);
                continue;
            }
            if (textOnly || type is not ("input_image" or "input_file"))
                throw CallRejectedException.Unsupported($"Content of type '{type}' cannot be sent here; {(textOnly ? "only text is" : "text, images and inline files are")}.", partPath + ".type");
            if (type == "input_image") Image(part, partPath);
            else File(part, partPath);
        }
        w.WriteEndArray();
    }

    private void Image(JsonElement part, string path)
    {
        if (!Present(part, "image_url", out var url) || url.ValueKind != JsonValueKind.String)
        {
            if (Present(part, "file_id", out _))
                throw CallRejectedException.Unsupported("Images by file_id refer to OpenAI's file storage, which this provider cannot read; send image_url (a URL or a data URL).", path + ".file_id");
            throw CallRejectedException.Invalid("An input_image part needs 'image_url'.", path + ".image_url");
        }
        w.WriteStartObject();
        w.WriteString("type"u8, "image_url"u8);
        w.WriteStartObject("image_url"u8);
        w.WritePropertyName("url"u8);
        url.WriteTo(w);
        CopyIfPresent(part, "detail", w);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private void File(JsonElement part, string path)
    {
        if (!Present(part, "file_data", out var data) || data.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Unsupported("Files by file_id or file_url cannot be sent to this provider; send the file inline as file_data.",
                Present(part, "file_id", out _) ? path + ".file_id" : path + ".file_data");
        w.WriteStartObject();
        w.WriteString("type"u8, "file"u8);
        w.WriteStartObject("file"u8);
        w.WritePropertyName("file_data"u8);
        data.WriteTo(w);
        CopyIfPresent(part, "filename", w);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private void TextPart(JsonElement text)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WritePropertyName("text"u8);
        text.WriteTo(w);
        w.WriteEndObject();
    }

    private static void Require(JsonElement item, string name, string path)
    {
        if (!Present(item, name, out var value) || value.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid($"'{name}' is required and must be a string.", $"{path}.{name}");
    }
}
