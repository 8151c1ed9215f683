using System.Text;
using System.Text.Json;
using Proxy.Answers;

namespace Proxy.Providers.OpenAI;

/// <summary>Tokens as the upstream wrote them, for the neutral contract's raw JSON string tokens.</summary>
internal static class RawJson
{
    /// <summary>The token the reader is on, as it appears in <paramref name="json"/>: a string with its quotes and escapes.</summary>
    public static ReadOnlySpan<byte> Token(ReadOnlySpan<byte> json, scoped in Utf8JsonReader reader) =>
        json[(int)reader.TokenStartIndex..(int)reader.BytesConsumed];

    /// <summary>The string token the reader is on; nothing for null or any other kind of value.</summary>
    public static ReadOnlySpan<byte> StringToken(ReadOnlySpan<byte> json, scoped in Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? Token(json, reader) : default;

    /// <summary>The token, or nothing for an empty string (Azure's first chunk has <c>"id":""</c>): writers then use their own.</summary>
    public static ReadOnlySpan<byte> NonEmpty(ReadOnlySpan<byte> token) => IsEmpty(token) ? default : token;

    /// <summary>True for a string token with nothing in it (<c>""</c>), or none at all: no event is worth sending for it.</summary>
    public static bool IsEmpty(ReadOnlySpan<byte> token) => token.Length <= 2;

    /// <summary>
    /// Tool-call arguments as a JSON string token. OpenAI sends a string; a few compatible servers send the object
    /// itself, which is encoded as the string OpenAI would have sent (rare, so the allocation does not matter).
    /// Leaves the reader at the end of the value.
    /// </summary>
    public static ReadOnlySpan<byte> Arguments(ReadOnlySpan<byte> json, scoped ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String) return Token(json, reader);
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            reader.Skip();
            return default;
        }
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        return AnswerText.Quote(Encoding.UTF8.GetString(json[start..(int)reader.BytesConsumed]));
    }

    /// <summary>Whether the choice object the reader is on is choice 0 (a choice without an index is taken as the only one).</summary>
    public static bool IsFirstChoice(Utf8JsonReader probe)
    {
        // A copy of the reader: scanning it leaves the caller's where it was.
        while (probe.Read() && probe.TokenType == JsonTokenType.PropertyName)
        {
            bool isIndex = probe.ValueTextEquals("index"u8);
            probe.Read();
            if (isIndex) return probe.TokenType == JsonTokenType.Number && probe.TryGetInt32(out int index) && index == 0;
            probe.Skip();
        }
        return true;
    }

    /// <summary>Skips the value after the property name the reader is on.</summary>
    public static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }
}
