using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// Converse's TokenUsage in OpenAI terms. Bedrock counts inputTokens without the prompt-cache reads and writes
/// (as Anthropic does); OpenAI's prompt_tokens includes cached tokens, so prompt = input + cache read + cache write
/// and cached_tokens = cache read.
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
        usage.Reported = true;
    }

    public static void Write(Utf8JsonWriter writer, in Usage usage)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        writer.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        writer.WriteNumber("total_tokens"u8, usage.PromptTokens + usage.CompletionTokens);
        writer.WriteStartObject("prompt_tokens_details"u8);
        writer.WriteNumber("cached_tokens"u8, usage.CachedTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
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
