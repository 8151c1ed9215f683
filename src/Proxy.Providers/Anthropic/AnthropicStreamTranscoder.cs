using System.Buffers;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Streaming;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// An Anthropic Messages stream as OpenAI chat.completion.chunk events:
/// message_start → the role chunk; text blocks' text_delta → content chunks; a tool_use block's start → a tool-call
/// chunk with its index (counting tool calls only), id and name, and its input_json_delta → argument chunks;
/// message_delta → the finish chunk; message_stop → the usage chunk (only when the client asked, as OpenAI does),
/// then <c>data: [DONE]</c>. ping → an SSE comment (keeps intermediaries from idling the connection out).
/// error → an OpenAI error event, and the stream has failed. Thinking, citation and server-tool blocks and deltas
/// have no OpenAI counterpart and are skipped, as are event types Anthropic may add later.
/// One instance per stream.
/// </summary>
public sealed class AnthropicStreamTranscoder(string provider, bool clientWantsUsage, long created) : SseEventTranscoder
{
    private static readonly byte[] EmptyString = "\"\""u8.ToArray();

    private Utf8JsonWriter? _writer;
    private byte[] _id = EmptyString;
    private byte[] _model = EmptyString;
    private AnthropicTokens _tokens;
    private Block[] _blocks = new Block[4];
    private int _tools;
    private bool _finishSent;

    private enum BlockKind : byte
    {
        Skipped,
        Text,
        Tool,
    }

    private struct Block
    {
        public BlockKind Kind;
        public int Tool;
        public bool HasArguments;
    }

    protected override void OnEvent(ReadOnlySpan<byte> evt, IBufferWriter<byte> output, ref StreamState state)
    {
        if (!SseFramer.TryGetData(evt, out var data)) return;
        AnthropicStreamEvent e;
        try
        {
            e = AnthropicStreamEvent.Parse(data, ref _tokens);
        }
        catch (JsonException)
        {
            Fail(output, $"Upstream '{provider}' sent a stream event that is not valid JSON.", OpenAiError.Upstream, "upstream_invalid_answer", ref state);
            return;
        }

        switch (e.Type)
        {
            case EventType.MessageStart:
                if (!e.Id.IsEmpty) _id = e.Id.Of(data).ToArray();
                if (!e.Model.IsEmpty) _model = e.Model.Of(data).ToArray();
                _tokens.ApplyTo(ref state.Usage);
                WriteRoleChunk(output, ref state);
                break;
            case EventType.ContentBlockStart:
                OnBlockStart(e, data, output, ref state);
                break;
            case EventType.ContentBlockDelta:
                OnBlockDelta(e, data, output, ref state);
                break;
            case EventType.ContentBlockStop:
                if (BlockAt(e.Index) is { Kind: BlockKind.Tool, HasArguments: false } tool)
                {
                    // A call without arguments streams none; OpenAI clients expect the arguments to parse as an object.
                    WriteArgumentsChunk(output, tool.Tool, "\"{}\""u8, ref state);
                }
                break;
            case EventType.MessageDelta:
                _tokens.ApplyTo(ref state.Usage);
                if (!e.StopReason.IsEmpty && !_finishSent) WriteFinishChunk(output, AnthropicStopReasons.ToFinishReason(e.StopReason.Unquoted(data)), ref state);
                break;
            case EventType.MessageStop:
                if (!_finishSent) WriteFinishChunk(output, "stop"u8, ref state);
                if (clientWantsUsage) WriteUsageChunk(output, ref state);
                WriteRaw(output, "data: [DONE]\n\n"u8, ref state);
                state.Completed = true;
                break;
            case EventType.Ping:
                WriteRaw(output, ": ping\n\n"u8, ref state);
                break;
            case EventType.Error:
                var type = e.ErrorType.IsEmpty ? null : JsonString(e.ErrorType.Of(data));
                var message = e.ErrorMessage.IsEmpty ? null : JsonString(e.ErrorMessage.Of(data));
                var failure = AnthropicErrors.Classify(provider, AnthropicErrors.StatusOf(type), type, message);
                Fail(output, failure.Message, failure.Type, failure.Code, ref state);
                break;
        }
    }

    private void OnBlockStart(in AnthropicStreamEvent e, ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref StreamState state)
    {
        if (!TrackBlock(e.Index, out var block)) return;
        if (e.Kind == PartKind.Text)
        {
            block = new Block { Kind = BlockKind.Text };
            if (!e.Text.IsBlankString) WriteContentChunk(output, e.Text.Of(data), ref state);
        }
        else if (e.Kind == PartKind.ToolUse)
        {
            block = new Block { Kind = BlockKind.Tool, Tool = _tools++ };
            var w = BeginChunk(output);
            w.WriteStartArray("tool_calls"u8);
            w.WriteStartObject();
            w.WriteNumber("index"u8, block.Tool);
            w.WritePropertyName("id"u8);
            w.WriteRawValue(e.Id.IsEmpty ? EmptyString : e.Id.Of(data), skipInputValidation: true);
            w.WriteString("type"u8, "function"u8);
            w.WriteStartObject("function"u8);
            w.WritePropertyName("name"u8);
            w.WriteRawValue(e.Name.IsEmpty ? EmptyString : e.Name.Of(data), skipInputValidation: true);
            w.WriteString("arguments"u8, ""u8);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            EndChunk(w, output, default, ref state);
        }
        else block = default;
        _blocks[e.Index] = block;
    }

    private void OnBlockDelta(in AnthropicStreamEvent e, ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref StreamState state)
    {
        var block = BlockAt(e.Index);
        if (e.Kind == PartKind.TextDelta && block.Kind != BlockKind.Skipped)
        {
            if (!e.Text.IsBlankString) WriteContentChunk(output, e.Text.Of(data), ref state);
        }
        else if (e.Kind == PartKind.InputJsonDelta && block.Kind == BlockKind.Tool && !e.PartialJson.IsBlankString)
        {
            _blocks[e.Index].HasArguments = true;
            WriteArgumentsChunk(output, block.Tool, e.PartialJson.Of(data), ref state);
        }
    }

    /// <summary>The slot for a block index (false for an absurd index, which is then ignored).</summary>
    private bool TrackBlock(int index, out Block block)
    {
        if (index is < 0 or > 4096)
        {
            block = default;
            return false;
        }
        if (index >= _blocks.Length) Array.Resize(ref _blocks, Math.Max(index + 1, _blocks.Length * 2));
        block = default;
        return true;
    }

    private Block BlockAt(int index) => index >= 0 && index < _blocks.Length ? _blocks[index] : default;

    private void WriteRoleChunk(IBufferWriter<byte> output, ref StreamState state)
    {
        var w = BeginChunk(output);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("content"u8, ""u8);
        EndChunk(w, output, default, ref state);
    }

    private void WriteContentChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> rawText, ref StreamState state)
    {
        var w = BeginChunk(output);
        w.WritePropertyName("content"u8);
        w.WriteRawValue(rawText, skipInputValidation: true);
        EndChunk(w, output, default, ref state);
    }

    private void WriteArgumentsChunk(IBufferWriter<byte> output, int tool, ReadOnlySpan<byte> rawArguments, ref StreamState state)
    {
        var w = BeginChunk(output);
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, tool);
        w.WriteStartObject("function"u8);
        w.WritePropertyName("arguments"u8);
        w.WriteRawValue(rawArguments, skipInputValidation: true);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndChunk(w, output, default, ref state);
    }

    private void WriteFinishChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> finishReason, ref StreamState state)
    {
        _finishSent = true;
        var w = BeginChunk(output);
        EndChunk(w, output, finishReason, ref state);
    }

    private void WriteUsageChunk(IBufferWriter<byte> output, ref StreamState state)
    {
        var w = BeginEvent(output);
        w.WriteStartArray("choices"u8);
        w.WriteEndArray();
        _tokens.WriteOpenAi(w);
        EndEvent(w, output, ref state);
    }

    /// <summary>Starts <c>data: {"id",...,"choices":[{"index":0,"delta":{</c>.</summary>
    private Utf8JsonWriter BeginChunk(IBufferWriter<byte> output)
    {
        var w = BeginEvent(output);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("delta"u8);
        return w;
    }

    /// <summary>Closes the delta and the choice (finish_reason null when <paramref name="finishReason"/> is empty), then the event.</summary>
    private static void EndChunk(Utf8JsonWriter w, IBufferWriter<byte> output, ReadOnlySpan<byte> finishReason, ref StreamState state)
    {
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        if (finishReason.IsEmpty) w.WriteNull("finish_reason"u8);
        else w.WriteString("finish_reason"u8, finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        EndEvent(w, output, ref state);
    }

    private Utf8JsonWriter BeginEvent(IBufferWriter<byte> output)
    {
        "data: "u8.CopyTo(output.GetSpan(6));
        output.Advance(6);
        var w = _writer ??= new Utf8JsonWriter(output, JsonOutput.Options);
        w.Reset(output);
        w.WriteStartObject();
        w.WritePropertyName("id"u8);
        w.WriteRawValue(_id, skipInputValidation: true);
        w.WriteString("object"u8, "chat.completion.chunk"u8);
        w.WriteNumber("created"u8, created);
        w.WritePropertyName("model"u8);
        w.WriteRawValue(_model, skipInputValidation: true);
        return w;
    }

    private static void EndEvent(Utf8JsonWriter w, IBufferWriter<byte> output, ref StreamState state)
    {
        w.WriteEndObject();
        w.Flush();
        "\n\n"u8.CopyTo(output.GetSpan(2));
        output.Advance(2);
        state.EventsWritten++;
    }

    private static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes, ref StreamState state)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
        state.EventsWritten++;
    }

    private static void Fail(IBufferWriter<byte> output, string message, string type, string? code, ref StreamState state)
    {
        OpenAiError.WriteEvent(output, message, type, code);
        state.EventsWritten++;
        state.Failed = true;
    }

    /// <summary>The value of a raw JSON string token (only on the rare error path).</summary>
    private static string? JsonString(ReadOnlySpan<byte> raw)
    {
        var reader = new Utf8JsonReader(raw);
        return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }
}
