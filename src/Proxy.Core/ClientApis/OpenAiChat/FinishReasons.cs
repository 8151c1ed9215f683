using Proxy.Answers;

namespace Proxy.ClientApis.OpenAiChat;

/// <summary>Neutral finish reasons as OpenAI's finish_reason values.</summary>
public static class FinishReasons
{
    public static ReadOnlySpan<byte> ToOpenAi(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length"u8,
        FinishReason.ToolCalls => "tool_calls"u8,
        FinishReason.ContentFilter or FinishReason.Refusal => "content_filter"u8,
        _ => "stop"u8,
    };

    /// <summary>OpenAI's finish_reason (the string's content) as a neutral reason.</summary>
    public static FinishReason FromOpenAi(ReadOnlySpan<byte> value) =>
        value.SequenceEqual("length"u8) ? FinishReason.Length
        : value.SequenceEqual("tool_calls"u8) || value.SequenceEqual("function_call"u8) ? FinishReason.ToolCalls
        : value.SequenceEqual("content_filter"u8) ? FinishReason.ContentFilter
        : FinishReason.Stop;
}
