using System.Text.Json;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Anthropic's usage counts, normalized at this edge. Anthropic's <c>input_tokens</c> counts only the input that was
/// neither read from nor written to the prompt cache; the gateway's prompt tokens (OpenAI's convention) count all of
/// it. So prompt = input_tokens + cache_read_input_tokens + cache_creation_input_tokens, cached =
/// cache_read_input_tokens, cache writes = cache_creation_input_tokens.
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

    /// <summary>The counts in the gateway's normalized form (OpenAI's convention; cache writes kept apart too, as Anthropic prices them apart).</summary>
    public readonly void ApplyTo(ref Providers.Usage usage)
    {
        usage.PromptTokens = Prompt;
        usage.CompletionTokens = Output;
        usage.CachedTokens = CacheRead;
        usage.CacheWriteTokens = CacheCreation;
        usage.Reported = Seen;
    }

    /// <summary>The normalized usage, for a writer's SetUsage.</summary>
    public readonly Providers.Usage ToUsage()
    {
        var usage = default(Providers.Usage);
        ApplyTo(ref usage);
        return usage;
    }
}
