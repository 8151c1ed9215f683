using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// An image_url part as a Converse image block. Converse takes image bytes (or an S3 object), never a web URL, so
/// only base64 data URLs are accepted; the base64 text goes through as is (Converse's blob encoding is base64 too).
/// </summary>
internal static class Images
{
    public static void Write(Utf8JsonWriter writer, JsonElement part, string param)
    {
        if (!part.TryGetProperty("image_url", out var image)) throw CallRejectedException.Invalid("An image_url part needs 'image_url'.", param + ".image_url");
        var url = image.ValueKind == JsonValueKind.String ? image.GetString()
            : image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()
            : null;
        if (url is null) throw CallRejectedException.Invalid("'image_url.url' is required.", param + ".image_url.url");
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            throw CallRejectedException.Unsupported("Bedrock takes images inline: send the image as a base64 data URL (data:image/png;base64,...), not a web URL.",
                param + ".image_url.url");
        int comma = url.IndexOf(',', StringComparison.Ordinal);
        var meta = comma < 0 ? "" : url[5..comma];
        if (comma < 0 || !meta.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw CallRejectedException.Invalid("Image data URLs must be base64 (data:image/png;base64,...).", param + ".image_url.url");
        var format = meta[..^7].ToLowerInvariant() switch
        {
            "image/png" => "png",
            "image/jpeg" or "image/jpg" => "jpeg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            var other => throw CallRejectedException.Unsupported($"Image type '{other}' is not supported by Bedrock (png, jpeg, gif, webp are).", param + ".image_url.url"),
        };
        writer.WriteStartObject();
        writer.WriteStartObject("image"u8);
        writer.WriteString("format"u8, format);
        writer.WriteStartObject("source"u8);
        writer.WriteString("bytes"u8, url.AsSpan(comma + 1));
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
