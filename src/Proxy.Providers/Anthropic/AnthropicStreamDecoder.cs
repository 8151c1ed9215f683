using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Streaming;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// An Anthropic Messages stream read into neutral events: message_start → Start and the first usage; a text block's
/// start (when it carries text) and its text_delta → Text; a tool_use block's start → ToolCallStart (its index counting
/// tool calls only) and its input_json_delta → ToolCallArguments; a thinking block's thinking_delta → Reasoning and
/// signature_delta → ReasoningSignature; message_delta → the cumulative usage and Finish; message_stop → End;
/// ping → KeepAlive; error → Error, classified as a non-2xx answer of its type would be (<see cref="AnthropicErrors"/>).
/// Citation, redacted-thinking and server-tool blocks have no neutral counterpart and are skipped, as are event types
/// Anthropic may add later. One instance per stream.
/// </summary>
public sealed class AnthropicStreamDecoder(string provider) : SseStreamDecoder
{
    private AnthropicTokens _tokens;
    private Block[] _blocks = new Block[4];
    private int _tools;

    private enum BlockKind : byte
    {
        Skipped,
        Text,
        Thinking,
        Tool,
    }

    private struct Block
    {
        public BlockKind Kind;
        public int Tool;
    }

    protected override void OnEvent(ReadOnlySpan<byte> evt, AnswerWriter writer)
    {
        if (!SseFramer.TryGetData(evt, out var data)) return;
        AnthropicStreamEvent e;
        try
        {
            e = AnthropicStreamEvent.Parse(data, ref _tokens);
        }
        catch (JsonException)
        {
            writer.Error($"Upstream '{provider}' sent a stream event that is not valid JSON.", OpenAiError.Upstream, "upstream_invalid_answer", 502);
            return;
        }

        switch (e.Type)
        {
            case EventType.MessageStart:
                writer.Start(e.Id.Of(data), e.Model.Of(data));
                writer.SetUsage(_tokens.ToUsage());
                break;
            case EventType.ContentBlockStart:
                OnBlockStart(e, data, writer);
                break;
            case EventType.ContentBlockDelta:
                OnBlockDelta(e, data, writer);
                break;
            case EventType.MessageDelta:
                writer.SetUsage(_tokens.ToUsage());
                if (!e.StopReason.IsEmpty) writer.Finish(AnthropicStopReasons.ToFinishReason(e.StopReason.Unquoted(data)), e.StopSequence.Of(data));
                break;
            case EventType.MessageStop:
                writer.End();
                break;
            case EventType.Ping:
                writer.KeepAlive();
                break;
            case EventType.Error:
                var type = e.ErrorType.IsEmpty ? null : JsonString(e.ErrorType.Of(data));
                var message = e.ErrorMessage.IsEmpty ? null : JsonString(e.ErrorMessage.Of(data));
                var failure = AnthropicErrors.Classify(provider, AnthropicErrors.StatusOf(type), type, message);
                writer.Error(failure.Message, failure.Type, failure.Code, failure.Status);
                break;
        }
    }

    private void OnBlockStart(in AnthropicStreamEvent e, ReadOnlySpan<byte> data, AnswerWriter writer)
    {
        if (e.Index is < 0 or > 4096) return; // an absurd index is ignored rather than allocated for
        if (e.Index >= _blocks.Length) Array.Resize(ref _blocks, Math.Max(e.Index + 1, _blocks.Length * 2));
        var block = default(Block);
        switch (e.Kind)
        {
            case PartKind.Text:
                block.Kind = BlockKind.Text;
                if (!e.Text.IsBlankString) writer.Text(e.Text.Of(data));
                break;
            case PartKind.Thinking:
                block.Kind = BlockKind.Thinking;
                if (!e.Thinking.IsBlankString) writer.Reasoning(e.Thinking.Of(data));
                if (!e.Signature.IsBlankString) writer.ReasoningSignature(e.Signature.Of(data)); // streams send it as a delta; a whole block would carry it here
                break;
            case PartKind.ToolUse:
                block = new Block { Kind = BlockKind.Tool, Tool = _tools++ };
                writer.ToolCallStart(block.Tool, e.Id.Of(data), e.Name.Of(data));
                break;
        }
        _blocks[e.Index] = block;
    }

    private void OnBlockDelta(in AnthropicStreamEvent e, ReadOnlySpan<byte> data, AnswerWriter writer)
    {
        var block = e.Index >= 0 && e.Index < _blocks.Length ? _blocks[e.Index] : default;
        switch (e.Kind)
        {
            case PartKind.TextDelta when block.Kind == BlockKind.Text && !e.Text.IsBlankString:
                writer.Text(e.Text.Of(data));
                break;
            case PartKind.InputJsonDelta when block.Kind == BlockKind.Tool && !e.PartialJson.IsBlankString:
                writer.ToolCallArguments(block.Tool, e.PartialJson.Of(data));
                break;
            case PartKind.ThinkingDelta when block.Kind == BlockKind.Thinking && !e.Thinking.IsBlankString:
                writer.Reasoning(e.Thinking.Of(data));
                break;
            case PartKind.SignatureDelta when block.Kind == BlockKind.Thinking && !e.Signature.IsBlankString:
                writer.ReasoningSignature(e.Signature.Of(data));
                break;
        }
    }

    /// <summary>The value of a raw JSON string token (only on the rare error path).</summary>
    private static string? JsonString(ReadOnlySpan<byte> raw)
    {
        var reader = new Utf8JsonReader(raw);
        return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }
}
