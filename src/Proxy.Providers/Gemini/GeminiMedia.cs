using System.Text.Json;

namespace Proxy.Providers.Gemini;

/// <summary>
/// Images, audio and files in user messages. Base64 data URLs go inline (<c>inlineData</c>); gs:// and http(s) URLs go
/// by reference (<c>fileData</c>), and the provider fetches them: the Gemini API takes its Files API URIs, public or
/// signed https URLs and registered gs:// objects; Vertex AI takes gs:// objects and public http(s) URLs. Which URL a
/// provider can read is its decision, and its 400 reaches the client as is.
/// </summary>
internal static class GeminiMedia
{
    public static void WriteImage(Utf8JsonWriter w, string url, int index)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            WriteDataUrl(w, url, index);
            return;
        }
        if (IsRemote(url))
        {
            // fileData needs a MIME type and an image_url says only that it is an image: the extension decides, else JPEG.
            WriteFileData(w, GuessMimeType(url) ?? "image/jpeg", url);
            return;
        }
        throw CallRejectedException.Invalid($"messages[{index}]: image_url must be a base64 data URL, a gs:// URI or an http(s) URL.", $"messages[{index}].content");
    }

    public static void WriteAudio(Utf8JsonWriter w, JsonElement part, int index)
    {
        if (!part.TryGetProperty("input_audio", out var audio) || audio.ValueKind != JsonValueKind.Object
            || !audio.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid($"messages[{index}]: an input_audio part needs input_audio.data.", $"messages[{index}].content");
        var format = audio.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : "wav";
        WriteInline(w, "audio/" + format, data.GetString());
    }

    public static void WriteFile(Utf8JsonWriter w, JsonElement part, int index, string providerType)
    {
        if (!part.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid($"messages[{index}]: a file part needs 'file'.", $"messages[{index}].content");
        var filename = file.TryGetProperty("filename", out var fn) && fn.ValueKind == JsonValueKind.String ? fn.GetString() : null;
        if (file.TryGetProperty("file_data", out var data) && data.ValueKind == JsonValueKind.String)
        {
            var value = data.GetString()!;
            if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            {
                WriteDataUrl(w, value, index);
                return;
            }
            var mime = filename is null ? null : GuessMimeType(filename);
            if (mime is null) throw CallRejectedException.Invalid($"messages[{index}]: file_data without a data: URL needs a filename whose extension gives its type (.pdf, .png...).", $"messages[{index}].content");
            WriteInline(w, mime, value);
            return;
        }
        if (file.TryGetProperty("file_id", out _))
            throw CallRejectedException.Unsupported($"messages[{index}]: file_id refers to OpenAI's Files API, which provider type '{providerType}' cannot read; send file_data.", $"messages[{index}].content");
        throw CallRejectedException.Invalid($"messages[{index}]: a file part needs file.file_data.", $"messages[{index}].content");
    }

    /// <summary>data:[mime][;params];base64,DATA. The base64 text is passed on as it is; Gemini decodes it.</summary>
    private static void WriteDataUrl(Utf8JsonWriter w, string url, int index)
    {
        int comma = url.IndexOf(',', StringComparison.Ordinal);
        var header = comma < 0 ? "" : url.AsSpan(5, comma - 5);
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw CallRejectedException.Invalid($"messages[{index}]: a data URL must be base64 (data:<type>;base64,<data>).", $"messages[{index}].content");
        int semicolon = header.IndexOf(';');
        var mime = header[..semicolon];
        if (mime.IsEmpty) throw CallRejectedException.Invalid($"messages[{index}]: the data URL gives no media type.", $"messages[{index}].content");
        w.WriteStartObject("inlineData"u8);
        w.WriteString("mimeType"u8, mime);
        w.WriteString("data"u8, url.AsSpan(comma + 1));
        w.WriteEndObject();
    }

    private static void WriteInline(Utf8JsonWriter w, string mime, string? base64)
    {
        w.WriteStartObject("inlineData"u8);
        w.WriteString("mimeType"u8, mime);
        w.WriteString("data"u8, base64);
        w.WriteEndObject();
    }

    private static void WriteFileData(Utf8JsonWriter w, string mime, string uri)
    {
        w.WriteStartObject("fileData"u8);
        w.WriteString("mimeType"u8, mime);
        w.WriteString("fileUri"u8, uri);
        w.WriteEndObject();
    }

    private static bool IsRemote(string url) =>
        url.StartsWith("gs://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The MIME type Gemini documents for a file extension (query and fragment ignored), or null.</summary>
    internal static string? GuessMimeType(string pathOrUrl)
    {
        var path = pathOrUrl.AsSpan();
        int cut = path.IndexOfAny('?', '#');
        if (cut >= 0) path = path[..cut];
        int dot = path.LastIndexOf('.');
        if (dot < 0 || path[dot..].Contains('/')) return null;
        return path[(dot + 1)..].ToString().ToLowerInvariant() switch
        {
            "png" => "image/png",
            "jpg" or "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "gif" => "image/gif",
            "heic" => "image/heic",
            "heif" => "image/heif",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "wav" => "audio/wav",
            "mp3" => "audio/mp3",
            "flac" => "audio/flac",
            "ogg" => "audio/ogg",
            "mp4" => "video/mp4",
            "mov" => "video/mov",
            "webm" => "video/webm",
            _ => null,
        };
    }
}
