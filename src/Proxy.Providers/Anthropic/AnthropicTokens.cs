using System.Text.Json;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Anthropic's usage counts and their OpenAI form. Anthropic's <c>input_tokens</c> counts only the input that was
/// neither read from nor written to the prompt cache; OpenAI's <c>prompt_tokens</c> counts all of it. So
/// prompt_tokens = input_tokens + cache_read_input_tokens + cache_creation_input_tokens, and
/// prompt_tokens_details.cached_tokens = cache_read_input_tokens.
/// </summary>
internal struct AnthropicTokens
{
    public long Input;
    public long Output;
    public long CacheRead;
    public long CacheCreation;
    public bool Seen;

    public readonly long Prompt => Input + CacheRead + CacheCreation;

    /// <summary>
    /// Reads a usage object (the reader on its StartObject). Only the fields present change: a stream's message_delta
    /// carries cumulative counts, sometimes without the input side that message_start already gave.
    /// </summary>
    public void Read(ref Utf8JsonReader reader)
    {
        Seen = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8)) Count(ref reader, ref Input);
            else if (reader.ValueTextEquals("output_tokens"u8)) Count(ref reader, ref Output);
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8)) Count(ref reader, ref CacheRead);
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8)) Count(ref reader, ref CacheCreation);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void Count(ref Utf8JsonReader reader, ref long field)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) field = n;
    }

    public readonly void ApplyTo(ref Providers.Usage usage)
    {
        usage.PromptTokens = Prompt;
        usage.CompletionTokens = Output;
        usage.CachedTokens = CacheRead;
        usage.Reported = Seen;
    }

    /// <summary>Writes <c>"usage":{...}</c> in OpenAI's shape.</summary>
    public readonly void WriteOpenAi(Utf8JsonWriter w)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, Prompt);
        w.WriteNumber("completion_tokens"u8, Output);
        w.WriteNumber("total_tokens"u8, Prompt + Output);
        w.WriteStartObject("prompt_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, CacheRead);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
