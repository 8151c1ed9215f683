using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiChat;

/// <summary>Normalized usage in OpenAI's chat shape: prompt tokens include cache reads and writes; cached_tokens are the reads.</summary>
public static class OpenAiUsageWriter
{
    public static void Write(Utf8JsonWriter w, in Usage usage)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        w.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        w.WriteNumber("total_tokens"u8, usage.PromptTokens + usage.CompletionTokens);
        w.WriteStartObject("prompt_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, usage.CachedTokens);
        w.WriteEndObject();
        if (usage.ReasoningTokens > 0)
        {
            w.WriteStartObject("completion_tokens_details"u8);
            w.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
