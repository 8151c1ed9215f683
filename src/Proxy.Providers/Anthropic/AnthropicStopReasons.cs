using Proxy.Answers;

namespace Proxy.Providers.Anthropic;

/// <summary>Anthropic's stop_reason as a neutral finish reason.</summary>
internal static class AnthropicStopReasons
{
    /// <summary>
    /// end_turn → stop; stop_sequence → stop sequence (its value travels beside it); max_tokens and
    /// model_context_window_exceeded (cut short either way) → length; tool_use → tool calls; refusal → refusal;
    /// pause_turn → pause turn. Anything newer → stop, the reason that asks nothing more of a client.
    /// </summary>
    public static FinishReason ToFinishReason(ReadOnlySpan<byte> stopReason) =>
        stopReason.SequenceEqual("end_turn"u8) ? FinishReason.Stop
        : stopReason.SequenceEqual("stop_sequence"u8) ? FinishReason.StopSequence
        : stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8) ? FinishReason.Length
        : stopReason.SequenceEqual("tool_use"u8) ? FinishReason.ToolCalls
        : stopReason.SequenceEqual("refusal"u8) ? FinishReason.Refusal
        : stopReason.SequenceEqual("pause_turn"u8) ? FinishReason.PauseTurn
        : FinishReason.Stop;
}
