using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Answers;

/// <summary>Helpers for the contract's JSON string tokens.</summary>
public static class AnswerText
{
    /// <summary>A .NET string as a JSON string token (quotes included), escaped as the gateway writes JSON.</summary>
    public static byte[] Quote(string value)
    {
        var buffer = new ArrayBufferWriter<byte>(value.Length + 8);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options)) w.WriteStringValue(value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The inside of a JSON string token (without its quotes); a token that is not a string gives nothing.</summary>
    public static ReadOnlySpan<byte> Inner(ReadOnlySpan<byte> token) =>
        token.Length >= 2 && token[0] == (byte)'"' && token[^1] == (byte)'"' ? token[1..^1] : default;

    /// <summary>Appends the inside of a JSON string token to a buffer of string content (still escaped).</summary>
    public static void Append(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> token) => buffer.Write(Inner(token));

    /// <summary>Writes gathered string content (escaped, without quotes) as a JSON string value.</summary>
    public static void WriteString(Utf8JsonWriter w, ReadOnlySpan<byte> escapedContent)
    {
        int length = escapedContent.Length + 2;
        byte[]? rented = null;
        Span<byte> token = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        token[0] = (byte)'"';
        escapedContent.CopyTo(token[1..]);
        token[^1] = (byte)'"';
        w.WriteRawValue(token, skipInputValidation: true);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>
    /// The JSON text that gathered string content (escaped) stands for, unescaped: tool-call arguments as a JSON value.
    /// Returns false when it is not one JSON value (a model can stream broken arguments).
    /// </summary>
    public static bool TryUnescapeJson(ReadOnlySpan<byte> escapedContent, out byte[] json)
    {
        json = [];
        var token = new byte[escapedContent.Length + 2];
        token[0] = (byte)'"';
        escapedContent.CopyTo(token.AsSpan(1));
        token[^1] = (byte)'"';
        var reader = new Utf8JsonReader(token);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
            var text = new byte[reader.ValueIsEscaped ? reader.ValueSpan.Length : escapedContent.Length];
            int n = reader.CopyString(text);
            json = text.AsSpan(0, n).ToArray();
            var check = new Utf8JsonReader(json);
            if (!check.Read()) return false;
            check.Skip();
            return !check.Read();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
