using System.Text;
using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Anthropic's <c>system</c> and <c>messages</c> as OpenAI chat messages. A user turn's tool_result blocks become tool
/// messages, written first since OpenAI wants them right after the assistant message that called the tools; what else
/// the user sent follows as one user message. Images inside tool results (OpenAI tool messages carry text only) move to
/// that user message, each after a line naming its call. Assistant text and tool_use blocks become one assistant
/// message with tool_calls. Thinking blocks from earlier turns are dropped: their signatures mean nothing to another
/// provider. cache_control is dropped wherever it is, since OpenAI-shaped providers cache prompts by themselves.
/// </summary>
internal static class ChatMessagesWriter
{
    public static void WriteSystem(JsonElement system, Utf8JsonWriter w)
    {
        if (!RawJson.IsSet(system)) return;
        if (system.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, "system"u8);
            RawJson.Copy(w, "content"u8, system);
            w.WriteEndObject();
            return;
        }
        if (system.ValueKind != JsonValueKind.Array)
            throw CallRejectedException.Invalid("'system' must be a string or an array of text blocks.", "system");
        int count = system.GetArrayLength();
        var root = new ParamPath("system");
        for (int j = 0; j < count; j++)
        {
            if (!RawJson.RequireType(system[j], root.Item(j)).ValueEquals("text"u8))
                throw CallRejectedException.Invalid("System blocks must be text blocks.", root.Item(j).Field("type"));
            RawJson.RequireString(system[j], "text", root.Item(j));
        }
        if (count == 0) return;
        w.WriteStartObject();
        w.WriteString("role"u8, "system"u8);
        w.WritePropertyName("content"u8);
        WriteTexts(system, count, w);
        w.WriteEndObject();
    }

    public static void WriteMessages(JsonElement messages, Utf8JsonWriter w)
    {
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var path = new ParamPath("messages", i);
            if (message.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid($"'{path}' must be an object.", path.ToString());
            var role = RawJson.RequireString(message, "role", path);
            if (!message.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                throw NotContent(path);
            if (role.ValueEquals("user"u8)) WriteUser(content, path, w);
            else if (role.ValueEquals("assistant"u8)) WriteAssistant(content, path, w);
            else throw CallRejectedException.Invalid($"'{path.Field("role")}' must be 'user' or 'assistant'.", path.Field("role"));
            i++;
        }
    }

    private static void WriteUser(JsonElement content, ParamPath path, Utf8JsonWriter w)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteStringMessage(w, "user"u8, content);
            return;
        }
        int j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = path.Item(j++);
            if (RawJson.RequireType(block, at).ValueEquals("tool_result"u8)) WriteToolMessage(block, at, w);
        }

        // The rest of the turn, opened at its first part: a turn of tool results alone has no user message.
        bool open = false;
        j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = path.Item(j++);
            var type = block.GetProperty("type");
            if (type.ValueEquals("text"u8) || type.ValueEquals("image"u8))
            {
                Open(ref open, w);
                if (type.ValueEquals("text"u8)) WriteTextPart(block, at, w);
                else WriteImagePart(block, at, w);
            }
            else if (type.ValueEquals("tool_result"u8)) MoveToolImages(block, at, ref open, w);
            else if (type.ValueEquals("thinking"u8) || type.ValueEquals("redacted_thinking"u8)) continue;
            else if (type.ValueEquals("tool_use"u8)) throw CallRejectedException.Invalid("tool_use blocks belong in assistant messages.", at.ToString());
            else throw Unsupported(type, at);
        }
        if (open)
        {
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private static void Open(ref bool open, Utf8JsonWriter w)
    {
        if (open) return;
        open = true;
        w.WriteStartObject();
        w.WriteString("role"u8, "user"u8);
        w.WriteStartArray("content"u8);
    }

    /// <summary>
    /// A tool_result as a tool message: its text as it came (one text stays a string). A failed call (is_error) gets
    /// "Error: " before its text, since OpenAI's tool messages have no error flag.
    /// </summary>
    private static void WriteToolMessage(JsonElement block, ParamPath path, Utf8JsonWriter w)
    {
        var id = RawJson.RequireString(block, "tool_use_id", path);
        bool isError = block.TryGetProperty("is_error", out var error) && error.ValueKind == JsonValueKind.True;
        block.TryGetProperty("content", out var content);
        int texts = 0;
        if (content.ValueKind == JsonValueKind.Array)
        {
            int k = 0;
            foreach (var part in content.EnumerateArray())
            {
                var at = path.Item(k++);
                var type = RawJson.RequireType(part, at);
                if (type.ValueEquals("text"u8))
                {
                    RawJson.RequireString(part, "text", at);
                    texts++;
                }
                else if (!type.ValueEquals("image"u8)) throw Unsupported(type, at);
            }
        }
        else if (RawJson.IsSet(content) && content.ValueKind != JsonValueKind.String) throw NotContent(path);

        w.WriteStartObject();
        w.WriteString("role"u8, "tool"u8);
        RawJson.Copy(w, "tool_call_id"u8, id);
        w.WritePropertyName("content"u8);
        if (isError) w.WriteStringValue("Error: " + JoinedText(content));
        else if (content.ValueKind == JsonValueKind.String) RawJson.Copy(w, content);
        else if (texts == 0) w.WriteStringValue(""u8);
        else WriteTexts(content, texts, w);
        w.WriteEndObject();
    }

    /// <summary>A failed call's text, decoded (a rare path): the string, or its text blocks one per line.</summary>
    private static string JoinedText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array) return "";
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (!part.GetProperty("type").ValueEquals("text"u8)) continue;
            if (text.Length > 0) text.Append('\n');
            text.Append(part.GetProperty("text").GetString());
        }
        return text.ToString();
    }

    private static void MoveToolImages(JsonElement block, ParamPath path, ref bool open, Utf8JsonWriter w)
    {
        if (!block.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array) return;
        int k = 0;
        foreach (var part in content.EnumerateArray())
        {
            var at = path.Item(k++);
            if (!part.GetProperty("type").ValueEquals("image"u8)) continue;
            Open(ref open, w);
            w.WriteStartObject();
            w.WriteString("type"u8, "text"u8);
            w.WritePropertyName("text"u8);
            RawJson.WriteJoined(w, "Image from the result of tool call "u8, RawJson.Inner(block.GetProperty("tool_use_id")), ":"u8);
            w.WriteEndObject();
            WriteImagePart(part, at, w);
        }
    }

    /// <summary>
    /// An assistant turn: its text (null beside tool calls when there is none, as OpenAI writes it) and its tool_use
    /// blocks as tool_calls. A turn left empty (thinking only) is not written: OpenAI refuses an empty assistant message.
    /// </summary>
    private static void WriteAssistant(JsonElement content, ParamPath path, Utf8JsonWriter w)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteStringMessage(w, "assistant"u8, content);
            return;
        }
        int texts = 0, calls = 0, j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = path.Item(j++);
            var type = RawJson.RequireType(block, at);
            if (type.ValueEquals("text"u8))
            {
                RawJson.RequireString(block, "text", at);
                texts++;
            }
            else if (type.ValueEquals("tool_use"u8))
            {
                RawJson.RequireString(block, "id", at);
                RawJson.RequireString(block, "name", at);
                if (block.TryGetProperty("input", out var input) && RawJson.IsSet(input) && input.ValueKind != JsonValueKind.Object)
                    throw CallRejectedException.Invalid($"'{at.Field("input")}' must be an object.", at.Field("input"));
                calls++;
            }
            else if (type.ValueEquals("thinking"u8) || type.ValueEquals("redacted_thinking"u8)) continue;
            else if (type.ValueEquals("image"u8) || type.ValueEquals("tool_result"u8) || type.ValueEquals("document"u8))
                throw CallRejectedException.Invalid($"{type.GetString()} blocks belong in user messages.", at.ToString());
            else throw Unsupported(type, at);
        }
        if (texts == 0 && calls == 0) return;

        w.WriteStartObject();
        w.WriteString("role"u8, "assistant"u8);
        w.WritePropertyName("content"u8);
        if (texts == 0) w.WriteNullValue();
        else WriteTexts(content, texts, w);
        if (calls > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var block in content.EnumerateArray())
            {
                if (block.GetProperty("type").ValueEquals("tool_use"u8)) WriteToolCall(block, w);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>OpenAI carries a call's arguments as a string of JSON text: the input object as the client wrote it, quoted.</summary>
    private static void WriteToolCall(JsonElement block, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        RawJson.Copy(w, "id"u8, block.GetProperty("id"));
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        RawJson.Copy(w, "name"u8, block.GetProperty("name"));
        if (block.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object)
            w.WriteString("arguments"u8, System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(input));
        else w.WriteString("arguments"u8, "{}"u8);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteStringMessage(Utf8JsonWriter w, ReadOnlySpan<byte> role, JsonElement content)
    {
        w.WriteStartObject();
        w.WriteString("role"u8, role);
        RawJson.Copy(w, "content"u8, content);
        w.WriteEndObject();
    }

    /// <summary>
    /// The text blocks of a block array as a message's content: one text as a plain string (what every OpenAI-shaped
    /// provider reads), several as text parts, which keeps each block as it was rather than joining them.
    /// </summary>
    private static void WriteTexts(JsonElement blocks, int texts, Utf8JsonWriter w)
    {
        if (texts == 1)
        {
            foreach (var block in blocks.EnumerateArray())
            {
                if (block.GetProperty("type").ValueEquals("text"u8))
                {
                    RawJson.Copy(w, block.GetProperty("text"));
                    return;
                }
            }
        }
        w.WriteStartArray();
        foreach (var block in blocks.EnumerateArray())
        {
            if (block.GetProperty("type").ValueEquals("text"u8)) WriteTextPart(block, default, w);
        }
        w.WriteEndArray();
    }

    /// <summary>A text block as a text part (blocks already checked may pass no path).</summary>
    private static void WriteTextPart(JsonElement block, ParamPath path, Utf8JsonWriter w)
    {
        var text = RawJson.RequireString(block, "text", path);
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        RawJson.Copy(w, "text"u8, text);
        w.WriteEndObject();
    }

    /// <summary>An image block as an image_url part: base64 data as a data: URL, a URL as it is.</summary>
    private static void WriteImagePart(JsonElement block, ParamPath path, Utf8JsonWriter w)
    {
        if (!block.TryGetProperty("source", out var source) || source.ValueKind != JsonValueKind.Object)
            throw CallRejectedException.Invalid($"'{path.Field("source")}' must be an object.", path.Field("source"));
        var type = SourceString(source, "type", path);
        w.WriteStartObject();
        w.WriteString("type"u8, "image_url"u8);
        w.WriteStartObject("image_url"u8);
        w.WritePropertyName("url"u8);
        if (type.ValueEquals("base64"u8))
        {
            var mediaType = SourceString(source, "media_type", path);
            var data = SourceString(source, "data", path);
            RawJson.WriteJoined(w, "data:"u8, RawJson.Inner(mediaType), ";base64,"u8, RawJson.Inner(data));
        }
        else if (type.ValueEquals("url"u8)) RawJson.Copy(w, SourceString(source, "url", path));
        else if (type.ValueEquals("file"u8))
        {
            throw CallRejectedException.Unsupported(
                "Images by file_id (Anthropic's Files API) cannot be sent to this route's provider; send the image as base64 or a URL.", path.Field("source"));
        }
        else throw CallRejectedException.Invalid($"'{path.Field("source")}.type' must be 'base64', 'url' or 'file'.", path.Field("source") + ".type");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static JsonElement SourceString(JsonElement source, string name, ParamPath path)
    {
        if (source.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String) return value;
        string at = path.Field("source") + "." + name;
        throw CallRejectedException.Invalid($"'{at}' must be a string.", at);
    }

    private static CallRejectedException NotContent(ParamPath path) =>
        CallRejectedException.Invalid($"'{path.Field("content")}' must be a string or an array of content blocks.", path.Field("content"));

    /// <summary>Blocks with no OpenAI equivalent: documents (PDFs), search results, server tools' calls and results.</summary>
    private static CallRejectedException Unsupported(JsonElement type, ParamPath path) =>
        type.ValueEquals("document"u8)
            ? CallRejectedException.Unsupported("Document blocks (PDFs, text documents) cannot be sent to this route's provider; send the text instead.", path.ToString())
            : CallRejectedException.Unsupported($"Content blocks of type '{type.GetString()}' cannot be sent to this route's provider.", path.ToString());
}
