using System.Text.Json;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>Small lookups the request translation shares.</summary>
internal static class ResponsesJson
{
    /// <summary>The property exists and is not null (SDKs send explicit nulls for unset fields).</summary>
    public static bool Present(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    /// <summary>A string property's value, or null when it is absent or not a string.</summary>
    public static string? StringOf(JsonElement obj, string name) =>
        Present(obj, name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Copies a property as it is (under <paramref name="outputName"/> when given), when present.</summary>
    public static void CopyIfPresent(JsonElement obj, string name, Utf8JsonWriter w, string? outputName = null)
    {
        if (!Present(obj, name, out var value)) return;
        w.WritePropertyName(outputName ?? name);
        value.WriteTo(w);
    }
}
