namespace Proxy.Providers.Gemini;

/// <summary>Gemini's <c>finishReason</c> in OpenAI's words.</summary>
public static class GeminiFinishReason
{
    /// <summary>
    /// STOP → stop (tool_calls when the answer holds function calls: Gemini has no reason of its own for them),
    /// MAX_TOKENS → length, the safety and policy stops → content_filter. The rest (MALFORMED_FUNCTION_CALL, LANGUAGE,
    /// OTHER, unknown values) have no OpenAI counterpart and read as stop.
    /// </summary>
    public static string ToOpenAi(string reason, bool hasToolCalls) => reason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII"
            or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" or "IMAGE_RECITATION" => "content_filter",
        _ => hasToolCalls ? "tool_calls" : "stop",
    };
}
