using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Normalized usage in Anthropic's convention: input_tokens excludes the prompt tokens read from or written to the
/// cache, which are counted apart (Usage counts them in its PromptTokens, as OpenAI does).
/// </summary>
public static class AnthropicUsageWriter
{
    public static void Write(Utf8JsonWriter w, in Usage usage)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, Math.Max(0, usage.PromptTokens - usage.CachedTokens - usage.CacheWriteTokens));
        w.WriteNumber("cache_creation_input_tokens"u8, usage.CacheWriteTokens);
        w.WriteNumber("cache_read_input_tokens"u8, usage.CachedTokens);
        w.WriteNumber("output_tokens"u8, usage.CompletionTokens);
        w.WriteEndObject();
    }
}
