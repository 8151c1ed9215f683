using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Copies values of the client's request as the client wrote them (strings still escaped, numbers as written): the
/// body was parsed whole first, so every value is valid JSON and nothing is decoded and encoded again.
/// </summary>
internal static class RawJson
{
    public static void Copy(Utf8JsonWriter w, JsonElement value) =>
        w.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);

    public static void Copy(Utf8JsonWriter w, ReadOnlySpan<byte> name, JsonElement value)
    {
        w.WritePropertyName(name);
        Copy(w, value);
    }

    /// <summary>The inside of a string value, still escaped (the value must be a string).</summary>
    public static ReadOnlySpan<byte> Inner(JsonElement value) => AnswerText.Inner(JsonMarshal.GetRawUtf8Value(value));

    /// <summary>
    /// Writes one string value made of pieces of escaped string content laid end to end, which is itself valid string
    /// content (a data: URL from a media type and base64 data of any size, with no decode).
    /// </summary>
    public static void WriteJoined(Utf8JsonWriter w, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default, ReadOnlySpan<byte> d = default)
    {
        int length = a.Length + b.Length + c.Length + d.Length + 2;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var token = rented.AsSpan(0, length);
            token[0] = (byte)'"';
            int at = 1;
            a.CopyTo(token[at..]);
            at += a.Length;
            b.CopyTo(token[at..]);
            at += b.Length;
            c.CopyTo(token[at..]);
            at += c.Length;
            d.CopyTo(token[at..]);
            token[^1] = (byte)'"';
            w.WriteRawValue(token, skipInputValidation: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Whether an optional field was given: absent and JSON null both mean "not set", as the SDKs send it.</summary>
    public static bool IsSet(JsonElement value) => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    /// <summary>A string field of an object, or a refusal naming it.</summary>
    public static JsonElement RequireString(JsonElement obj, string name, ParamPath path)
    {
        if (obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String) return value;
        string at = path.Field(name);
        throw CallRejectedException.Invalid($"'{at}' must be a string.", at);
    }

    /// <summary>The block's <c>type</c>, or a refusal naming it.</summary>
    public static JsonElement RequireType(JsonElement block, ParamPath path)
    {
        if (block.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid($"'{path}' must be an object.", path.ToString());
        return RequireString(block, "type", path);
    }
}
