using Proxy.Answers;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>Converse's stopReason in neutral terms.</summary>
internal static class StopReasons
{
    public static FinishReason ToFinishReason(ReadOnlySpan<byte> stopReason) => stopReason switch
    {
        _ when stopReason.SequenceEqual("end_turn"u8) => FinishReason.Stop,
        _ when stopReason.SequenceEqual("tool_use"u8) => FinishReason.ToolCalls,
        _ when stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8) => FinishReason.Length,
        _ when stopReason.SequenceEqual("stop_sequence"u8) => FinishReason.StopSequence,
        _ when stopReason.SequenceEqual("guardrail_intervened"u8) || stopReason.SequenceEqual("content_filtered"u8) => FinishReason.ContentFilter,
        // Anything newer: the answer ended normally as far as a client can tell.
        _ => FinishReason.Stop,
    };
}
