using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;

namespace Proxy.ClientApis.OpenAiChat;

/// <summary>
/// Neutral answer events as OpenAI chat.completion.chunk SSE events: the role chunk first, a chunk per text delta, tool
/// calls as OpenAI streams them (the first chunk of a call carries its index, id, type and name with empty arguments,
/// later ones argument fragments), the finish chunk, then at the end the usage chunk (only when the client asked, as
/// OpenAI does) and <c>data: [DONE]</c>. Reasoning has no place in OpenAI's chat stream and is dropped. A keep-alive is
/// an SSE comment. One instance per stream.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The Utf8JsonWriter writes to the relay's IBufferWriter and holds nothing to release; it is reused across chunks.")]
public sealed class ChatChunkWriter(long created, bool clientWantsUsage, string? fallbackId = null) : AnswerWriter
{
    private static readonly byte[] EmptyString = "\"\""u8.ToArray();

    private Utf8JsonWriter? _writer;
    private byte[] _id = EmptyString;
    private byte[] _model = EmptyString;
    private bool _started;
    private bool _finished;
    private ulong _toolsWithArguments; // bit per tool index < 64: arguments seen (a call without any gets "{}")
    private int _tools;

    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model)
    {
        if (_started) return;
        _started = true;
        if (!id.IsEmpty) _id = id.ToArray();
        else if (fallbackId is not null) _id = AnswerText.Quote(fallbackId);
        if (!model.IsEmpty) _model = model.ToArray();
        var w = BeginChunk();
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("content"u8, ""u8);
        EndChunk(w, default);
    }

    public override void Text(ReadOnlySpan<byte> text)
    {
        if (IsEmptyString(text)) return;
        EnsureStarted();
        var w = BeginChunk();
        w.WritePropertyName("content"u8);
        w.WriteRawValue(text, skipInputValidation: true);
        EndChunk(w, default);
    }

    public override void Reasoning(ReadOnlySpan<byte> text)
    {
    }

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name)
    {
        EnsureStarted();
        CloseToolsBefore(index);
        _tools = Math.Max(_tools, index + 1);
        var w = BeginChunk();
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, index);
        w.WritePropertyName("id"u8);
        w.WriteRawValue(id.IsEmpty ? EmptyString : id, skipInputValidation: true);
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        w.WritePropertyName("name"u8);
        w.WriteRawValue(name.IsEmpty ? EmptyString : name, skipInputValidation: true);
        w.WriteString("arguments"u8, ""u8);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndChunk(w, default);
    }

    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment)
    {
        if (IsEmptyString(fragment)) return;
        if (index < 64) _toolsWithArguments |= 1UL << index;
        WriteArguments(index, fragment);
    }

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default)
    {
        if (_finished) return;
        EnsureStarted();
        CloseToolsBefore(_tools);
        _finished = true;
        EndChunk(BeginChunk(), FinishReasons.ToOpenAi(reason));
    }

    public override void End()
    {
        if (Completed || Failed) return;
        if (!_finished) Finish(_tools > 0 ? FinishReason.ToolCalls : FinishReason.Stop);
        if (clientWantsUsage && Usage.Reported)
        {
            var w = BeginEvent();
            w.WriteStartArray("choices"u8);
            w.WriteEndArray();
            OpenAiUsageWriter.Write(w, Usage);
            EndEvent(w);
        }
        Raw("data: [DONE]\n\n"u8);
        Wrote();
        MarkCompleted();
    }

    public override void Error(string message, string type, string? code, int status)
    {
        if (Completed || Failed) return;
        OpenAiError.WriteEvent(Output, message, type, code);
        Failure = new Providers.UpstreamFailure(status, type, code, message, false);
        Wrote();
        MarkFailed();
    }

    public override void KeepAlive()
    {
        Raw(": ping\n\n"u8);
        Wrote();
    }

    private void EnsureStarted()
    {
        if (!_started) Start(default, default);
    }

    /// <summary>OpenAI clients parse each call's arguments as an object: a call that streamed none gets "{}".</summary>
    private void CloseToolsBefore(int index)
    {
        for (int i = 0; i < Math.Min(index, 64); i++)
        {
            if ((_toolsWithArguments & (1UL << i)) != 0 || i >= _tools) continue;
            _toolsWithArguments |= 1UL << i;
            WriteArguments(i, "\"{}\""u8);
        }
    }

    private void WriteArguments(int index, ReadOnlySpan<byte> fragment)
    {
        var w = BeginChunk();
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, index);
        w.WriteStartObject("function"u8);
        w.WritePropertyName("arguments"u8);
        w.WriteRawValue(fragment, skipInputValidation: true);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndChunk(w, default);
    }

    private static bool IsEmptyString(ReadOnlySpan<byte> token) => token.Length <= 2;

    /// <summary>Starts <c>data: {"id",...,"choices":[{"index":0,"delta":{</c>.</summary>
    private Utf8JsonWriter BeginChunk()
    {
        var w = BeginEvent();
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("delta"u8);
        return w;
    }

    /// <summary>Closes the delta and the choice (finish_reason null when <paramref name="finishReason"/> is empty), then the event.</summary>
    private void EndChunk(Utf8JsonWriter w, ReadOnlySpan<byte> finishReason)
    {
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        if (finishReason.IsEmpty) w.WriteNull("finish_reason"u8);
        else w.WriteString("finish_reason"u8, finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        EndEvent(w);
    }

    private Utf8JsonWriter BeginEvent()
    {
        Raw("data: "u8);
        var w = _writer ??= new Utf8JsonWriter(Output, JsonOutput.Options);
        w.Reset(Output);
        w.WriteStartObject();
        w.WritePropertyName("id"u8);
        w.WriteRawValue(_id, skipInputValidation: true);
        w.WriteString("object"u8, "chat.completion.chunk"u8);
        w.WriteNumber("created"u8, created);
        w.WritePropertyName("model"u8);
        w.WriteRawValue(_model, skipInputValidation: true);
        return w;
    }

    private void EndEvent(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        Raw("\n\n"u8);
        Wrote();
    }
}
