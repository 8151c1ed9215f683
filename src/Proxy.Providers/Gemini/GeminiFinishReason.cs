namespace Proxy.Providers.Gemini;

/// <summary>Gemini's <c>finishReason</c> in OpenAI's words.</summary>
public static class GeminiFinishReason
{
    /// <summary>
    /// STOP → stop (tool_calls when the answer holds function calls: Gemini has no reason of its own for them),
    /// MAX_TOKENS → length, the safety and policy stops → content_filter. The rest (MALFORMED_FUNCTION_CALL, LANGUAGE,
    /// OTHER, unknown values) have no OpenAI counterpart and read as stop.
    /// </summary>
    public static string ToOpenAi(ReadOnlySpan<byte> reason, bool hasToolCalls)
    {
        if (reason.SequenceEqual("MAX_TOKENS"u8)) return "length";
        if (IsContentFilter(reason)) return "content_filter";
        return hasToolCalls ? "tool_calls" : "stop";
    }

    private static bool IsContentFilter(ReadOnlySpan<byte> reason) =>
        reason.SequenceEqual("SAFETY"u8) || reason.SequenceEqual("RECITATION"u8) || reason.SequenceEqual("BLOCKLIST"u8)
        || reason.SequenceEqual("PROHIBITED_CONTENT"u8) || reason.SequenceEqual("SPII"u8) || reason.SequenceEqual("IMAGE_SAFETY"u8)
        || reason.SequenceEqual("IMAGE_PROHIBITED_CONTENT"u8) || reason.SequenceEqual("IMAGE_RECITATION"u8);
}
