using Proxy.Answers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>Neutral finish reasons as Anthropic's stop_reason values.</summary>
public static class StopReasons
{
    /// <summary>
    /// A provider's safety filter is said as Anthropic's "refusal" (the model's output was withheld), the nearest
    /// Anthropic has. An answer that ended without a reason ends its turn, or waits for its tool results.
    /// </summary>
    public static ReadOnlySpan<byte> ToAnthropic(FinishReason reason, bool calledTools) => reason switch
    {
        FinishReason.StopSequence => "stop_sequence"u8,
        FinishReason.Length => "max_tokens"u8,
        FinishReason.ToolCalls => "tool_use"u8,
        FinishReason.ContentFilter or FinishReason.Refusal => "refusal"u8,
        FinishReason.PauseTurn => "pause_turn"u8,
        FinishReason.None when calledTools => "tool_use"u8,
        _ => "end_turn"u8,
    };
}
