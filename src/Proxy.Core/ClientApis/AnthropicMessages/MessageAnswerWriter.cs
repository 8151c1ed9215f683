using System.Buffers;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Neutral answer events gathered into one Anthropic Message, written at <see cref="End"/>: the content blocks in the
/// order they came (thinking with its signature, text, tool_use with its input as a JSON object), the stop reason and
/// sequence, the usage in Anthropic's convention. Texts stay escaped as the upstream sent them.
/// </summary>
public sealed class MessageAnswerWriter(string fallbackId, byte[]? fallbackModel = null) : AnswerWriter
{
    private enum Kind : byte
    {
        Text,
        Thinking,
        Tool,
    }

    private sealed class Block(Kind kind, byte[]? id = null, byte[]? name = null)
    {
        public Kind Kind { get; } = kind;
        public byte[]? Id { get; } = id;
        public byte[]? Name { get; } = name;

        /// <summary>The text, the thinking or the tool's arguments, as escaped JSON string content.</summary>
        public ArrayBufferWriter<byte> Content { get; } = new(64);

        public ArrayBufferWriter<byte>? Signature { get; set; }
    }

    private byte[]? _id;
    private byte[]? _model;
    private readonly List<Block> _blocks = [];
    private readonly List<Block?> _tools = []; // tool index -> its block
    private FinishReason _finish;
    private byte[]? _stopSequence;

    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model)
    {
        if (!id.IsEmpty) _id ??= id.ToArray();
        if (!model.IsEmpty) _model ??= model.ToArray();
    }

    public override void Text(ReadOnlySpan<byte> text)
    {
        if (text.Length > 2) AnswerText.Append(Last(Kind.Text).Content, text);
    }

    public override void Reasoning(ReadOnlySpan<byte> text)
    {
        if (text.Length > 2) AnswerText.Append(Last(Kind.Thinking).Content, text);
    }

    public override void ReasoningSignature(ReadOnlySpan<byte> signature)
    {
        if (signature.Length <= 2) return;
        var block = Last(Kind.Thinking);
        AnswerText.Append(block.Signature ??= new ArrayBufferWriter<byte>(signature.Length), signature);
    }

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name)
    {
        if (index < 0 || (index < _tools.Count && _tools[index] is not null)) return;
        var block = new Block(Kind.Tool, id.Length > 2 ? id.ToArray() : null, name.IsEmpty ? null : name.ToArray());
        _blocks.Add(block);
        while (_tools.Count <= index) _tools.Add(null);
        _tools[index] = block;
    }

    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment)
    {
        if (index >= 0 && index < _tools.Count && _tools[index] is { } block) AnswerText.Append(block.Content, fragment);
    }

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default)
    {
        if (_finish != FinishReason.None) return;
        _finish = reason;
        if (stopSequence.Length > 2) _stopSequence = stopSequence.ToArray();
    }

    /// <summary>
    /// Writes the message. A tool call whose arguments are not one JSON object cannot be an Anthropic tool_use input:
    /// the answer is refused as unreadable (the relay answers 502) rather than the arguments dropped.
    /// </summary>
    public override void End()
    {
        if (Completed || Failed) return;
        var inputs = ToolInputs();
        using var w = new Utf8JsonWriter(Output, JsonOutput.Options);
        w.WriteStartObject();
        w.WritePropertyName("id"u8);
        if (_id is not null) w.WriteRawValue(_id, skipInputValidation: true);
        else w.WriteStringValue(fallbackId);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WritePropertyName("model"u8);
        w.WriteRawValue(_model ?? fallbackModel ?? "\"\""u8.ToArray(), skipInputValidation: true);
        w.WriteStartArray("content"u8);
        int tool = 0;
        foreach (var block in _blocks)
        {
            w.WriteStartObject();
            switch (block.Kind)
            {
                case Kind.Text:
                    w.WriteString("type"u8, "text"u8);
                    w.WritePropertyName("text"u8);
                    AnswerText.WriteString(w, block.Content.WrittenSpan);
                    break;
                case Kind.Thinking:
                    w.WriteString("type"u8, "thinking"u8);
                    w.WritePropertyName("thinking"u8);
                    AnswerText.WriteString(w, block.Content.WrittenSpan);
                    w.WritePropertyName("signature"u8);
                    AnswerText.WriteString(w, block.Signature is { } signature ? signature.WrittenSpan : default);
                    break;
                default:
                    w.WriteString("type"u8, "tool_use"u8);
                    w.WritePropertyName("id"u8);
                    if (block.Id is not null) w.WriteRawValue(block.Id, skipInputValidation: true);
                    else w.WriteStringValue("toolu_" + Guid.NewGuid().ToString("N"));
                    w.WritePropertyName("name"u8);
                    w.WriteRawValue(block.Name ?? "\"\""u8.ToArray(), skipInputValidation: true);
                    w.WritePropertyName("input"u8);
                    w.WriteRawValue(inputs[tool++], skipInputValidation: true);
                    break;
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("stop_reason"u8, StopReasons.ToAnthropic(_finish, inputs.Count > 0));
        w.WritePropertyName("stop_sequence"u8);
        if (_finish == FinishReason.StopSequence && _stopSequence is not null) w.WriteRawValue(_stopSequence, skipInputValidation: true);
        else w.WriteNullValue();
        AnthropicUsageWriter.Write(w, Usage);
        w.WriteEndObject();
        w.Flush();
        Wrote();
        MarkCompleted();
    }

    /// <summary>A whole answer that failed is not written: the relay answers with the error instead (<see cref="AnswerWriter.Failure"/>).</summary>
    public override void Error(string message, string type, string? code, int status)
    {
        Failure = new UpstreamFailure(status, type, code, message, false);
        MarkFailed();
    }

    /// <summary>The block to append to: the last one when it is of <paramref name="kind"/>, else a new one.</summary>
    private Block Last(Kind kind)
    {
        if (_blocks.Count > 0 && _blocks[^1].Kind == kind) return _blocks[^1];
        var block = new Block(kind);
        _blocks.Add(block);
        return block;
    }

    /// <summary>Each tool call's arguments as the JSON object they stand for, in block order; "{}" for a call that streamed none.</summary>
    private List<byte[]> ToolInputs()
    {
        var inputs = new List<byte[]>();
        foreach (var block in _blocks)
        {
            if (block.Kind != Kind.Tool) continue;
            if (block.Content.WrittenCount == 0)
            {
                inputs.Add("{}"u8.ToArray());
                continue;
            }
            if (!AnswerText.TryUnescapeJson(block.Content.WrittenSpan, out var json) || !IsObject(json))
                throw new InvalidUpstreamAnswerException($"tool call {inputs.Count} has arguments that are not a JSON object");
            inputs.Add(json);
        }
        return inputs;
    }

    private static bool IsObject(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return reader.Read() && reader.TokenType == JsonTokenType.StartObject;
    }
}
