namespace Proxy.Providers.Bedrock.Converse;

/// <summary>Converse stopReason to OpenAI finish_reason.</summary>
internal static class StopReasons
{
    public static ReadOnlySpan<byte> ToFinishReason(ReadOnlySpan<byte> stopReason) => stopReason switch
    {
        _ when stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8) => "length"u8,
        _ when stopReason.SequenceEqual("tool_use"u8) => "tool_calls"u8,
        _ when stopReason.SequenceEqual("guardrail_intervened"u8) || stopReason.SequenceEqual("content_filtered"u8) => "content_filter"u8,
        // end_turn, stop_sequence, and anything newer: the answer ended normally as far as a client can tell.
        _ => "stop"u8,
    };
}
