using System.Text.Json;
using Proxy.Providers;

namespace Proxy.Streaming;

/// <summary>Reads the <c>usage</c> object of an OpenAI answer or stream chunk without deserializing the rest.</summary>
public static class OpenAiUsage
{
    /// <summary>Scans a top-level object for "usage" and fills <paramref name="usage"/>; tolerant of anything it does not know.</summary>
    public static void Read(ReadOnlySpan<byte> json, ref Usage usage)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            if (TryEnterTopLevelObject(ref reader, "usage"u8)) ReadUsageObject(ref reader, ref usage);
        }
        catch (JsonException)
        {
            // A provider's malformed answer goes to the client as it came; accounting just has no usage for it.
        }
    }

    /// <summary>
    /// Moves a fresh reader over a JSON object to the start of its top-level property <paramref name="name"/> when that
    /// is an object, skipping everything before it; false when there is none. Throws JsonException on malformed JSON.
    /// </summary>
    public static bool TryEnterTopLevelObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool match = reader.ValueTextEquals(name);
            reader.Read();
            if (match && reader.TokenType == JsonTokenType.StartObject) return true;
            reader.Skip();
        }
        return false;
    }

    /// <summary>
    /// Reads a usage object whose StartObject the reader is on (chat's prompt/completion names or the Responses API's
    /// input/output names), leaving it on the EndObject. Throws JsonException on malformed JSON.
    /// </summary>
    public static void ReadUsageObject(ref Utf8JsonReader reader, ref Usage usage)
    {
        usage.Reported = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
                usage.PromptTokens = ReadCount(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
                usage.CompletionTokens = ReadCount(ref reader);
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
                ReadDetail(ref reader, "cached_tokens"u8, ref usage.CachedTokens);
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
                ReadDetail(ref reader, "reasoning_tokens"u8, ref usage.ReasoningTokens);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>One count out of a details object (the reader on its property name); the rest is skipped.</summary>
    private static void ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, ref long value)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name)) value = ReadCount(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static long ReadCount(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) ? n : 0;
    }
}
