namespace Proxy.Answers;

/// <summary>
/// Why the model stopped, in neutral terms. Each client writer maps it to its own wire value (OpenAI finish_reason,
/// Anthropic stop_reason, Responses status), each decoder from its provider's.
/// </summary>
public enum FinishReason : byte
{
    /// <summary>Not said (yet).</summary>
    None,

    /// <summary>The model ended its turn (OpenAI "stop", Anthropic "end_turn").</summary>
    Stop,

    /// <summary>One of the client's stop sequences was produced (OpenAI reports "stop").</summary>
    StopSequence,

    /// <summary>The output token cap was reached (OpenAI "length", Anthropic "max_tokens").</summary>
    Length,

    /// <summary>The model called tools and waits for their results.</summary>
    ToolCalls,

    /// <summary>The provider's safety filter stopped the answer.</summary>
    ContentFilter,

    /// <summary>The model refused (Anthropic "refusal").</summary>
    Refusal,

    /// <summary>A long-running server-side turn paused (Anthropic "pause_turn"): the client continues it.</summary>
    PauseTurn,
}
