namespace Proxy.Providers.Anthropic;

/// <summary>Anthropic's stop_reason as OpenAI's finish_reason.</summary>
internal static class AnthropicStopReasons
{
    /// <summary>
    /// end_turn, stop_sequence → stop; max_tokens and model_context_window_exceeded (cut short either way) → length;
    /// tool_use → tool_calls; refusal → content_filter. pause_turn (a server-tool loop paused; only Anthropic's own
    /// server tools cause it, which the gateway does not send) and anything newer → stop.
    /// </summary>
    public static ReadOnlySpan<byte> ToFinishReason(ReadOnlySpan<byte> stopReason) =>
        stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8) ? "length"u8
        : stopReason.SequenceEqual("tool_use"u8) ? "tool_calls"u8
        : stopReason.SequenceEqual("refusal"u8) ? "content_filter"u8
        : "stop"u8;
}
