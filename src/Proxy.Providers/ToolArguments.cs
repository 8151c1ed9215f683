using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers;

/// <summary>
/// Tool-call arguments that a provider sends as a JSON object (Gemini's functionCall args, a whole Converse answer's
/// toolUse input) as the answer contract carries them: one JSON string token whose content is the object's compact
/// JSON text, as OpenAI's arguments string holds it. Tool calls are few per answer, so the copy is not on a hot path.
/// </summary>
internal static class ToolArguments
{
    /// <summary>The arguments of a call that sent none.</summary>
    public static ReadOnlySpan<byte> Empty => "\"{}\""u8;

    /// <summary>Reads the value the reader is on (it ends on the value's last token) and returns it as a string token.</summary>
    public static byte[] Quote(ref Utf8JsonReader reader)
    {
        using var value = JsonDocument.ParseValue(ref reader);
        var compact = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(compact, JsonOutput.Options)) value.RootElement.WriteTo(w);
        var token = new ArrayBufferWriter<byte>(compact.WrittenCount + 16);
        using (var w = new Utf8JsonWriter(token, JsonOutput.Options)) w.WriteStringValue(compact.WrittenSpan);
        return token.WrittenSpan.ToArray();
    }
}
