using System.Text.Json;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// OpenAI content parts to Anthropic content blocks: text → text; image_url → image with a <c>url</c> source, or a
/// <c>base64</c> source with its media type for a data URL; a PDF file part (base64 file_data) → document.
/// A part's <c>cache_control</c> (a prompt-caching breakpoint some clients add for Claude) is kept.
/// </summary>
internal static class ContentParts
{
    public static void WriteText(JsonElement text, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WritePropertyName("text"u8);
        text.WriteTo(w);
        w.WriteEndObject();
    }

    /// <summary>Where only text may appear (system, tool results).</summary>
    public static void WriteTextPart(JsonElement part, string path, Utf8JsonWriter w)
    {
        if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type) && type.ValueEquals("text"u8)
            && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "text"u8);
            w.WritePropertyName("text"u8);
            text.WriteTo(w);
            CacheControl(part, w);
            w.WriteEndObject();
            return;
        }
        throw CallRejectedException.Invalid("Only text parts are allowed here.", path);
    }

    public static void WriteUserPart(JsonElement part, string path, Utf8JsonWriter w)
    {
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid("A content part needs a 'type'.", path);
        if (type.ValueEquals("text"u8))
        {
            WriteTextPart(part, path, w);
            return;
        }
        if (type.ValueEquals("image_url"u8))
        {
            WriteImage(part, path, w);
            return;
        }
        if (type.ValueEquals("file"u8))
        {
            WriteFile(part, path, w);
            return;
        }
        throw CallRejectedException.Unsupported($"Content part type '{type.GetString()}' is not supported for Anthropic models.", path + ".type");
    }

    /// <summary>The text of an assistant part (text or refusal), or null when the part is something else.</summary>
    public static string? AssistantText(JsonElement part)
    {
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type)) return null;
        if (type.ValueEquals("text"u8) && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String) return text.GetString();
        if (type.ValueEquals("refusal"u8) && part.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String) return refusal.GetString();
        return null;
    }

    private static void WriteImage(JsonElement part, string path, Utf8JsonWriter w)
    {
        // image_url is {"url": ..., "detail": ...}; some clients send the URL string itself. Anthropic has no 'detail'.
        string? url = null;
        if (part.TryGetProperty("image_url", out var image))
        {
            if (image.ValueKind == JsonValueKind.String) url = image.GetString();
            else if (image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String) url = u.GetString();
        }
        if (string.IsNullOrEmpty(url)) throw CallRejectedException.Invalid("An image_url part needs 'image_url.url'.", path + ".image_url.url");

        w.WriteStartObject();
        w.WriteString("type"u8, "image"u8);
        w.WriteStartObject("source"u8);
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) WriteBase64Source(url, path + ".image_url.url", w);
        else
        {
            w.WriteString("type"u8, "url"u8);
            w.WriteString("url"u8, url);
        }
        w.WriteEndObject();
        CacheControl(part, w);
        w.WriteEndObject();
    }

    /// <summary>A PDF sent inline (<c>file.file_data</c> as a data URL) becomes a document block.</summary>
    private static void WriteFile(JsonElement part, string path, Utf8JsonWriter w)
    {
        if (!part.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object)
            throw CallRejectedException.Invalid("A file part needs a 'file' object.", path + ".file");
        if (!file.TryGetProperty("file_data", out var data) || data.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Unsupported("Only inline files (file.file_data as a base64 data URL) can be sent to Anthropic models; file_id refers to OpenAI's storage.",
                path + ".file");
        var url = data.GetString()!;
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            throw CallRejectedException.Invalid("file.file_data must be a data URL (data:application/pdf;base64,...).", path + ".file.file_data");
        w.WriteStartObject();
        w.WriteString("type"u8, "document"u8);
        w.WriteStartObject("source"u8);
        WriteBase64Source(url, path + ".file.file_data", w);
        w.WriteEndObject();
        if (file.TryGetProperty("filename", out var name) && name.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName("title"u8);
            name.WriteTo(w);
        }
        CacheControl(part, w);
        w.WriteEndObject();
    }

    /// <summary><c>data:&lt;media type&gt;;base64,&lt;data&gt;</c> → <c>{"type":"base64","media_type":...,"data":...}</c>.</summary>
    private static void WriteBase64Source(string url, string path, Utf8JsonWriter w)
    {
        int comma = url.IndexOf(',', StringComparison.Ordinal);
        var meta = comma < 0 ? default : url.AsSpan(5, comma - 5);
        if (comma < 0 || !meta.EndsWith(";base64", StringComparison.OrdinalIgnoreCase) || meta.Length == ";base64".Length)
            throw CallRejectedException.Invalid("Data URLs must be base64 with a media type (data:image/png;base64,...).", path);
        w.WriteString("type"u8, "base64"u8);
        w.WriteString("media_type"u8, meta[..^";base64".Length]);
        w.WriteString("data"u8, url.AsSpan(comma + 1));
    }

    private static void CacheControl(JsonElement part, Utf8JsonWriter w)
    {
        if (part.TryGetProperty("cache_control", out var cache) && cache.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("cache_control"u8);
            cache.WriteTo(w);
        }
    }
}
