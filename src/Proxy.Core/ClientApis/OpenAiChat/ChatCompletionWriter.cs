using System.Buffers;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiChat;

/// <summary>
/// Neutral answer events gathered into one OpenAI chat.completion, written at <see cref="End"/>: the texts joined as the
/// message content (null beside tool calls when there is no text, as OpenAI sends it), tool calls with their arguments
/// as strings ("{}" when none came), the finish reason and the usage. Strings stay escaped as the upstream sent them.
/// Reasoning has no place in OpenAI's chat answer and is dropped.
/// </summary>
public sealed class ChatCompletionWriter(long created, string? fallbackId = null) : AnswerWriter
{
    private byte[]? _id;
    private byte[]? _model;
    private readonly ArrayBufferWriter<byte> _text = new(256);
    private readonly List<Call> _calls = [];
    private FinishReason _finish;

    private sealed class Call(byte[] id, byte[] name)
    {
        public byte[] Id { get; } = id;
        public byte[] Name { get; } = name;
        public ArrayBufferWriter<byte> Arguments { get; } = new(64);
    }

    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model)
    {
        if (!id.IsEmpty) _id ??= id.ToArray();
        if (!model.IsEmpty) _model ??= model.ToArray();
    }

    public override void Text(ReadOnlySpan<byte> text) => AnswerText.Append(_text, text);

    public override void Reasoning(ReadOnlySpan<byte> text)
    {
    }

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name)
    {
        while (_calls.Count <= index) _calls.Add(new Call("\"\""u8.ToArray(), "\"\""u8.ToArray()));
        _calls[index] = new Call(id.IsEmpty ? "\"\""u8.ToArray() : id.ToArray(), name.IsEmpty ? "\"\""u8.ToArray() : name.ToArray());
    }

    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment)
    {
        if (index >= 0 && index < _calls.Count) AnswerText.Append(_calls[index].Arguments, fragment);
    }

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default) => _finish = reason;

    public override void End()
    {
        if (Completed || Failed) return;
        using var w = new Utf8JsonWriter(Output, JsonOutput.Options);
        w.WriteStartObject();
        w.WritePropertyName("id"u8);
        if (_id is not null) w.WriteRawValue(_id, skipInputValidation: true);
        else w.WriteStringValue(fallbackId ?? "");
        w.WriteString("object"u8, "chat.completion"u8);
        w.WriteNumber("created"u8, created);
        w.WritePropertyName("model"u8);
        w.WriteRawValue(_model ?? "\"\""u8.ToArray(), skipInputValidation: true);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WritePropertyName("content"u8);
        if (_text.WrittenCount == 0 && _calls.Count > 0) w.WriteNullValue();
        else AnswerText.WriteString(w, _text.WrittenSpan);
        w.WriteNull("refusal"u8);
        if (_calls.Count > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var call in _calls)
            {
                w.WriteStartObject();
                w.WritePropertyName("id"u8);
                w.WriteRawValue(call.Id, skipInputValidation: true);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WritePropertyName("name"u8);
                w.WriteRawValue(call.Name, skipInputValidation: true);
                w.WritePropertyName("arguments"u8);
                if (call.Arguments.WrittenCount == 0) w.WriteStringValue("{}"u8);
                else AnswerText.WriteString(w, call.Arguments.WrittenSpan);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        var finish = _finish != FinishReason.None ? _finish : _calls.Count > 0 ? FinishReason.ToolCalls : FinishReason.Stop;
        w.WriteString("finish_reason"u8, FinishReasons.ToOpenAi(finish));
        w.WriteEndObject();
        w.WriteEndArray();
        if (Usage.Reported) OpenAiUsageWriter.Write(w, Usage);
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
}
