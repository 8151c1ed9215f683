using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>Reader steps shared by the Converse decoders, which copy string tokens out of the payload as they are.</summary>
internal static class ConverseJson
{
    /// <summary>Reads the next value; where it sits in the payload when it is a string (quotes included, escapes kept), else an empty range.</summary>
    public static Range StringToken(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return default;
        }
        int start = (int)reader.TokenStartIndex;
        return new Range(start, start + reader.ValueSpan.Length + 2);
    }

    /// <summary>A range <see cref="StringToken"/> found (an empty range is "not a string").</summary>
    public static bool Found(Range token) => token.End.Value > 0;

    /// <summary>A string token with content (more than its two quotes).</summary>
    public static bool HasContent(Range token) => token.End.Value - token.Start.Value > 2;

    public static int ReadIndex(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : -1;
    }

    /// <summary>Skips the value after a property name.</summary>
    public static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }
}
