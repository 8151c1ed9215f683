using System.Text.Json;

namespace Proxy.Providers.Gemini;

/// <summary>
/// Gemini's <c>usageMetadata</c>, normalized: prompt tokens = promptTokenCount + toolUsePromptTokenCount;
/// completion tokens = candidatesTokenCount + thoughtsTokenCount (OpenAI counts reasoning inside completion tokens, and
/// Google bills thoughts as output); cached tokens = cachedContentTokenCount, which promptTokenCount already includes
/// ("the total effective prompt size", cached content included). Gemini's context caching has no per-answer cache
/// writes. A stream repeats the counts on its chunks as running totals, so the last one seen is the answer's.
/// </summary>
public struct GeminiUsage
{
    public long Prompt;
    public long Candidates;
    public long Cached;
    public long Thoughts;
    public long ToolUsePrompt;
    public long Total;
    public bool Seen;

    public readonly long PromptTokens => Prompt + ToolUsePrompt;

    public readonly long CompletionTokens => Candidates + Thoughts;

    public readonly long TotalTokens => Total > 0 ? Total : PromptTokens + CompletionTokens;

    /// <summary>Reads the object the reader is on (its StartObject) and leaves the reader on its EndObject.</summary>
    public static GeminiUsage Read(ref Utf8JsonReader r)
    {
        var u = new GeminiUsage { Seen = true };
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r;
            r.Read();
            if (r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out long n))
            {
                r.Skip();
                continue;
            }
            if (name.ValueTextEquals("promptTokenCount"u8)) u.Prompt = n;
            else if (name.ValueTextEquals("candidatesTokenCount"u8)) u.Candidates = n;
            else if (name.ValueTextEquals("cachedContentTokenCount"u8)) u.Cached = n;
            else if (name.ValueTextEquals("thoughtsTokenCount"u8)) u.Thoughts = n;
            else if (name.ValueTextEquals("toolUsePromptTokenCount"u8)) u.ToolUsePrompt = n;
            else if (name.ValueTextEquals("totalTokenCount"u8)) u.Total = n;
        }
        return u;
    }

    public static GeminiUsage From(JsonElement usage)
    {
        var u = new GeminiUsage { Seen = usage.ValueKind == JsonValueKind.Object };
        if (!u.Seen) return u;
        u.Prompt = Count(usage, "promptTokenCount");
        u.Candidates = Count(usage, "candidatesTokenCount");
        u.Cached = Count(usage, "cachedContentTokenCount");
        u.Thoughts = Count(usage, "thoughtsTokenCount");
        u.ToolUsePrompt = Count(usage, "toolUsePromptTokenCount");
        u.Total = Count(usage, "totalTokenCount");
        return u;
    }

    public readonly Usage ToUsage() => new()
    {
        PromptTokens = PromptTokens,
        CompletionTokens = CompletionTokens,
        CachedTokens = Cached,
        ReasoningTokens = Thoughts,
        Reported = Seen,
    };

    private static long Count(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;
}
