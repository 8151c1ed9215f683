using Proxy.Answers;

namespace Proxy.Providers.Gemini;

/// <summary>Gemini's <c>finishReason</c> in neutral terms.</summary>
public static class GeminiFinishReason
{
    /// <summary>
    /// MAX_TOKENS → length, the safety and policy stops → content filter. STOP and the rest (MALFORMED_FUNCTION_CALL,
    /// LANGUAGE, OTHER, unknown values) have no counterpart and read as a stop; a stop in an answer that holds function
    /// calls is a tool-call stop (<see cref="WithToolCalls"/>), as Gemini has no reason of its own for them.
    /// </summary>
    public static FinishReason FromGemini(ReadOnlySpan<byte> reason) =>
        reason.SequenceEqual("MAX_TOKENS"u8) ? FinishReason.Length
        : IsFiltered(reason) ? FinishReason.ContentFilter
        : FinishReason.Stop;

    public static FinishReason WithToolCalls(FinishReason reason, bool hasToolCalls) =>
        reason == FinishReason.Stop && hasToolCalls ? FinishReason.ToolCalls : reason;

    private static bool IsFiltered(ReadOnlySpan<byte> reason) =>
        reason.SequenceEqual("SAFETY"u8) || reason.SequenceEqual("RECITATION"u8) || reason.SequenceEqual("BLOCKLIST"u8)
        || reason.SequenceEqual("PROHIBITED_CONTENT"u8) || reason.SequenceEqual("SPII"u8) || reason.SequenceEqual("IMAGE_SAFETY"u8)
        || reason.SequenceEqual("IMAGE_PROHIBITED_CONTENT"u8) || reason.SequenceEqual("IMAGE_RECITATION"u8);
}
