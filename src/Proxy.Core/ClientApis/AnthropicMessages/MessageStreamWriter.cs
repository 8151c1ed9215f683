using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Neutral answer events as Anthropic's Messages stream: <c>message_start</c> (the message with no content, the usage
/// known so far), then each content block as <c>content_block_start</c>, its deltas and <c>content_block_stop</c>,
/// then at the end <c>message_delta</c> (stop reason and the final usage) and <c>message_stop</c>. Every event has its
/// <c>event:</c> line and a data line whose <c>type</c> repeats it.
/// <para>
/// Anthropic streams one block at a time, so a block is open until an event of another kind arrives: text after a tool
/// call opens a new text block, a new tool call closes the previous one, reasoning opens a thinking block. Finish only
/// records the reason, since OpenAI upstreams send their usage after the finish chunk; message_delta waits for End.
/// Strings are the upstream's JSON tokens, copied as they are. One instance per stream.
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The Utf8JsonWriter writes to the relay's IBufferWriter and holds nothing to release; it is reused across events.")]
public sealed class MessageStreamWriter(string fallbackId, byte[]? fallbackModel = null) : AnswerWriter
{
    private enum Block : byte
    {
        None,
        Text,
        Thinking,
        Tool,
    }

    private static readonly byte[] EmptyString = "\"\""u8.ToArray();

    private Utf8JsonWriter? _writer;
    private bool _started;
    private Block _open;
    private int _blocks; // content blocks opened so far; the open one, if any, is _blocks - 1
    private readonly List<int> _toolBlocks = []; // tool index -> its content block's index
    private FinishReason _finish;
    private byte[]? _stopSequence;

    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model)
    {
        if (_started) return;
        _started = true;
        var w = BeginEvent("message_start"u8);
        w.WriteStartObject("message"u8);
        w.WritePropertyName("id"u8);
        if (!id.IsEmpty) w.WriteRawValue(id, skipInputValidation: true);
        else w.WriteStringValue(fallbackId);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteStartArray("content"u8);
        w.WriteEndArray();
        w.WritePropertyName("model"u8);
        w.WriteRawValue(!model.IsEmpty ? model : fallbackModel ?? EmptyString, skipInputValidation: true);
        w.WriteNull("stop_reason"u8);
        w.WriteNull("stop_sequence"u8);
        // Upstreams that count only at the end (OpenAI) give zeros here; message_delta carries the real counts.
        AnthropicUsageWriter.Write(w, Usage);
        w.WriteEndObject();
        EndEvent(w);
    }

    public override void Text(ReadOnlySpan<byte> text)
    {
        if (IsEmptyString(text)) return;
        Open(Block.Text);
        Delta("text_delta"u8, "text"u8, text);
    }

    public override void Reasoning(ReadOnlySpan<byte> text)
    {
        if (IsEmptyString(text)) return;
        Open(Block.Thinking);
        Delta("thinking_delta"u8, "thinking"u8, text);
    }

    /// <summary>The signature closes the thinking it signs; a signature with no thinking before it gets a block of its own.</summary>
    public override void ReasoningSignature(ReadOnlySpan<byte> signature)
    {
        if (IsEmptyString(signature)) return;
        Open(Block.Thinking);
        Delta("signature_delta"u8, "signature"u8, signature);
    }

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name)
    {
        if (index < 0 || (index < _toolBlocks.Count && _toolBlocks[index] >= 0)) return;
        EnsureStarted();
        CloseBlock();
        int block = OpenBlock(Block.Tool);
        while (_toolBlocks.Count <= index) _toolBlocks.Add(-1);
        _toolBlocks[index] = block;
        var w = BeginBlockStart(block);
        w.WriteString("type"u8, "tool_use"u8);
        w.WritePropertyName("id"u8);
        // Anthropic clients send the id back with the tool's result; an upstream that gave none gets one made up.
        if (!IsEmptyString(id)) w.WriteRawValue(id, skipInputValidation: true);
        else w.WriteStringValue("toolu_" + Guid.NewGuid().ToString("N"));
        w.WritePropertyName("name"u8);
        w.WriteRawValue(name.IsEmpty ? EmptyString : name, skipInputValidation: true);
        w.WriteStartObject("input"u8);
        w.WriteEndObject();
        EndBlockStart(w);
    }

    /// <summary>
    /// Fragments of the open tool call go to its block. The contract gives a call's arguments before the next call
    /// starts, so a fragment for an earlier call should not come; if one does, it still goes to that call's block (SDKs
    /// gather deltas by index) rather than being lost. Fragments of a call never started are dropped.
    /// </summary>
    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment)
    {
        if (IsEmptyString(fragment) || index < 0 || index >= _toolBlocks.Count || _toolBlocks[index] < 0) return;
        var w = BeginEvent("content_block_delta"u8);
        w.WriteNumber("index"u8, _toolBlocks[index]);
        w.WriteStartObject("delta"u8);
        w.WriteString("type"u8, "input_json_delta"u8);
        w.WritePropertyName("partial_json"u8);
        w.WriteRawValue(fragment, skipInputValidation: true);
        w.WriteEndObject();
        EndEvent(w);
    }

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default)
    {
        if (_finish != FinishReason.None) return;
        _finish = reason;
        if (!IsEmptyString(stopSequence)) _stopSequence = stopSequence.ToArray();
    }

    public override void End()
    {
        if (Completed || Failed) return;
        EnsureStarted();
        CloseBlock();
        var w = BeginEvent("message_delta"u8);
        w.WriteStartObject("delta"u8);
        w.WriteString("stop_reason"u8, StopReasons.ToAnthropic(_finish, _toolBlocks.Count > 0));
        w.WritePropertyName("stop_sequence"u8);
        if (_finish == FinishReason.StopSequence && _stopSequence is not null) w.WriteRawValue(_stopSequence, skipInputValidation: true);
        else w.WriteNullValue();
        w.WriteEndObject();
        AnthropicUsageWriter.Write(w, Usage);
        EndEvent(w);
        EndEvent(BeginEvent("message_stop"u8));
        MarkCompleted();
    }

    /// <summary>Anthropic's error event ends the stream where it is: no block is closed, no message_stop follows.</summary>
    public override void Error(string message, string type, string? code, int status)
    {
        if (Completed || Failed) return;
        Raw("event: error\ndata: "u8);
        MessagesErrors.WriteObject(Writer(), status, message, type);
        Raw("\n\n"u8);
        Failure = new Providers.UpstreamFailure(status, type, code, message, false);
        Wrote();
        MarkFailed();
    }

    public override void KeepAlive()
    {
        Raw("event: ping\ndata: {\"type\": \"ping\"}\n\n"u8);
        Wrote();
    }

    private void EnsureStarted()
    {
        if (!_started) Start(default, default);
    }

    /// <summary>Makes a block of <paramref name="kind"/> the open one, closing another kind's first (tool blocks open in ToolCallStart).</summary>
    private void Open(Block kind)
    {
        EnsureStarted();
        if (_open == kind) return;
        CloseBlock();
        int block = OpenBlock(kind);
        var w = BeginBlockStart(block);
        if (kind == Block.Text)
        {
            w.WriteString("type"u8, "text"u8);
            w.WriteString("text"u8, ""u8);
        }
        else
        {
            w.WriteString("type"u8, "thinking"u8);
            w.WriteString("thinking"u8, ""u8);
            w.WriteString("signature"u8, ""u8);
        }
        EndBlockStart(w);
    }

    private int OpenBlock(Block kind)
    {
        _open = kind;
        return _blocks++;
    }

    private void CloseBlock()
    {
        if (_open == Block.None) return;
        var w = BeginEvent("content_block_stop"u8);
        w.WriteNumber("index"u8, _blocks - 1);
        EndEvent(w);
        _open = Block.None;
    }

    /// <summary>A delta of the open text or thinking block: <c>{"type":deltaType, field: token}</c>.</summary>
    private void Delta(ReadOnlySpan<byte> deltaType, ReadOnlySpan<byte> field, ReadOnlySpan<byte> token)
    {
        var w = BeginEvent("content_block_delta"u8);
        w.WriteNumber("index"u8, _blocks - 1);
        w.WriteStartObject("delta"u8);
        w.WriteString("type"u8, deltaType);
        w.WritePropertyName(field);
        w.WriteRawValue(token, skipInputValidation: true);
        w.WriteEndObject();
        EndEvent(w);
    }

    private Utf8JsonWriter BeginBlockStart(int block)
    {
        var w = BeginEvent("content_block_start"u8);
        w.WriteNumber("index"u8, block);
        w.WriteStartObject("content_block"u8);
        return w;
    }

    private void EndBlockStart(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        EndEvent(w);
    }

    /// <summary>Writes <c>event: {type}\ndata: {"type":"{type}"</c>, leaving the object open.</summary>
    private Utf8JsonWriter BeginEvent(ReadOnlySpan<byte> type)
    {
        Raw("event: "u8);
        Raw(type);
        Raw("\ndata: "u8);
        var w = Writer();
        w.WriteStartObject();
        w.WriteString("type"u8, type);
        return w;
    }

    private void EndEvent(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        Raw("\n\n"u8);
        Wrote();
    }

    /// <summary>The one writer of this stream, pointed at the relay's current output.</summary>
    private Utf8JsonWriter Writer()
    {
        var w = _writer ??= new Utf8JsonWriter(Output, JsonOutput.Options);
        w.Reset(Output);
        return w;
    }

    private static bool IsEmptyString(ReadOnlySpan<byte> token) => token.Length <= 2;
}
