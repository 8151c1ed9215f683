using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// Converse's TokenUsage, normalized. Bedrock counts inputTokens without the prompt-cache reads and writes (as
/// Anthropic does: totalTokens = inputTokens + cacheReadInputTokens + cacheWriteInputTokens + outputTokens), so the
/// prompt is all three; the cache reads are the cached tokens, the writes the cache-write tokens.
/// </summary>
internal static class ConverseUsage
{
    /// <summary>Reads a TokenUsage object; the reader is on its StartObject and ends on its EndObject.</summary>
    public static void Read(ref Utf8JsonReader reader, ref Usage usage)
    {
        long input = 0, output = 0, cacheRead = 0, cacheWrite = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref long target = ref input;
            bool known = true;
            if (reader.ValueTextEquals("inputTokens"u8)) target = ref input;
            else if (reader.ValueTextEquals("outputTokens"u8)) target = ref output;
            else if (reader.ValueTextEquals("cacheReadInputTokens"u8)) target = ref cacheRead;
            else if (reader.ValueTextEquals("cacheWriteInputTokens"u8)) target = ref cacheWrite;
            else known = false;
            reader.Read();
            if (known && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) target = n;
            else reader.Skip();
        }
        usage.PromptTokens = input + cacheRead + cacheWrite;
        usage.CompletionTokens = output;
        usage.CachedTokens = cacheRead;
        usage.CacheWriteTokens = cacheWrite;
        usage.Reported = true;
    }

    /// <summary>Finds "usage" at the top level of a Converse answer.</summary>
    public static void ReadAnswer(ReadOnlySpan<byte> body, ref Usage usage)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (Streaming.OpenAiUsage.TryEnterTopLevelObject(ref reader, "usage"u8)) Read(ref reader, ref usage);
        }
        catch (JsonException)
        {
            // No usage in a malformed answer; the translation reports the answer itself.
        }
    }
}
