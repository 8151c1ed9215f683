using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// Normalized usage in the Responses shape. Input tokens include cache reads and writes (the gateway's convention is
/// OpenAI's); cached_tokens are the reads, cache_write_tokens the writes. The neutral usage has no reasoning count.
/// </summary>
public static class ResponseUsageWriter
{
    public static void Write(Utf8JsonWriter w, in Usage usage)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, usage.PromptTokens);
        w.WriteStartObject("input_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, usage.CachedTokens);
        w.WriteNumber("cache_write_tokens"u8, usage.CacheWriteTokens);
        w.WriteEndObject();
        w.WriteNumber("output_tokens"u8, usage.CompletionTokens);
        w.WriteStartObject("output_tokens_details"u8);
        w.WriteNumber("reasoning_tokens"u8, 0);
        w.WriteEndObject();
        w.WriteNumber("total_tokens"u8, usage.PromptTokens + usage.CompletionTokens);
        w.WriteEndObject();
    }
}
