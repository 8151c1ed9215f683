using System.Buffers;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Providers.Google;
using Proxy.Streaming;

namespace Proxy.Providers.Gemini;

/// <summary>
/// <c>streamGenerateContent?alt=sse</c> to OpenAI chat.completion.chunk events. Each <c>data:</c> event is a whole
/// GenerateContentResponse: its text parts go out as content deltas (the first one carrying the role), each functionCall
/// part as one complete tool-call chunk (Gemini never splits a call's arguments). Gemini's stream has no end marker and
/// may repeat finishReason and running usage on several chunks, so the finish chunk, the usage chunk (only when the
/// client asked, as OpenAI does) and <c>[DONE]</c> are written when the body ends, in <see cref="Complete"/>, and only
/// if a finishReason was seen; a body that ends without one was cut. An error object in the stream, or a prompt blocked
/// before any candidate, ends the stream with an OpenAI error event.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The Utf8JsonWriter writes to the relay's IBufferWriter and holds nothing to release; it is reused across chunks to avoid one per chunk.")]
public sealed class GeminiStreamTranscoder(AnswerContext context, bool clientWantsUsage) : SseEventTranscoder
{
    private readonly JsonEncodedText _id = JsonEncodedText.Encode(context.Id, JsonOutput.Options.Encoder);
    private readonly JsonEncodedText _model = JsonEncodedText.Encode(context.Model, JsonOutput.Options.Encoder);
    private Utf8JsonWriter? _writer;
    private bool _roleSent;
    private int _toolCalls;
    private string? _finishReason;
    private GeminiUsage _usage;

    protected override void OnEvent(ReadOnlySpan<byte> evt, IBufferWriter<byte> output, ref StreamState state)
    {
        if (SseFramer.TryGetData(evt, out var data)) OnData(data, output, ref state);
    }

    public override void Complete(IBufferWriter<byte> output, ref StreamState state)
    {
        if (_finishReason is null) return; // no finish seen: the stream was cut, and the relay says so
        var w = Begin(output);
        w.WriteStartObject("delta"u8);
        WriteRoleOnce(w);
        w.WriteEndObject();
        End(w, output, GeminiFinishReason.ToOpenAi(_finishReason, _toolCalls > 0), ref state);

        if (clientWantsUsage && _usage.Seen)
        {
            w = StartEvent(output);
            WriteEnvelope(w);
            w.WriteStartArray("choices"u8);
            w.WriteEndArray();
            _usage.WriteOpenAi(w);
            w.WriteEndObject();
            EndEvent(w, output, ref state);
        }
        Raw(output, "data: [DONE]\n\n"u8);
        state.EventsWritten++;
        state.Completed = true;
    }

    private void OnData(ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref StreamState state)
    {
        GoogleErrors.GoogleError? error = null;
        string? blockReason = null, blockMessage = null;
        bool sawCandidate = false;
        try
        {
            var r = new Utf8JsonReader(data);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var name = r;
                r.Read();
                if (name.ValueTextEquals("candidates"u8) && r.TokenType == JsonTokenType.StartArray)
                    sawCandidate = ReadCandidates(ref r, data, output, ref state);
                else if (name.ValueTextEquals("usageMetadata"u8) && r.TokenType == JsonTokenType.StartObject)
                {
                    _usage = GeminiUsage.Read(ref r);
                    state.Usage = _usage.ToUsage();
                }
                else if (name.ValueTextEquals("promptFeedback"u8) && r.TokenType == JsonTokenType.StartObject)
                    (blockReason, blockMessage) = ReadFeedback(ref r);
                else if (name.ValueTextEquals("error"u8) && r.TokenType == JsonTokenType.StartObject)
                    error = GoogleErrors.ReadError(ref r);
                else r.Skip();
            }
        }
        catch (JsonException e)
        {
            Fail(output, new UpstreamFailure(502, OpenAiError.Upstream, "upstream_invalid_answer",
                $"Upstream '{context.Provider}' sent a stream event that is not valid JSON: {e.Message}", false), ref state);
            return;
        }

        if (error is { } e2) Fail(output, GoogleErrors.Classify(context.Provider, e2.Code, e2), ref state);
        else if (blockReason is not null && !sawCandidate) Fail(output, GeminiAnswer.PromptBlocked(context.Provider, blockReason, blockMessage).Failure, ref state);
    }

    /// <summary>Reads the candidates array (the reader is on its StartArray); only the first candidate is answered (n is 1).</summary>
    private bool ReadCandidates(ref Utf8JsonReader r, ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref StreamState state)
    {
        bool first = true, saw = false;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (!first || r.TokenType != JsonTokenType.StartObject)
            {
                r.Skip();
                continue;
            }
            first = false;
            saw = true;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var name = r;
                r.Read();
                if (name.ValueTextEquals("content"u8) && r.TokenType == JsonTokenType.StartObject) ReadContent(ref r, data, output, ref state);
                else if (name.ValueTextEquals("finishReason"u8) && r.TokenType == JsonTokenType.String) _finishReason = r.GetString();
                else r.Skip();
            }
        }
        return saw;
    }

    private void ReadContent(ref Utf8JsonReader r, ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref StreamState state)
    {
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            bool isParts = r.ValueTextEquals("parts"u8);
            r.Read();
            if (!isParts || r.TokenType != JsonTokenType.StartArray)
            {
                r.Skip();
                continue;
            }
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                if (r.TokenType == JsonTokenType.StartObject) ReadPart(ref r, data, output, ref state);
                else r.Skip();
            }
        }
    }

    /// <summary>
    /// One part. Its fields come in any order ("thought": true may follow the text), so the text is located first and
    /// written once the part is known not to be a thought summary.
    /// </summary>
    private void ReadPart(ref Utf8JsonReader r, ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref StreamState state)
    {
        int textStart = -1, textLength = 0;
        bool thought = false, isCall = false;
        string? callName = null, arguments = null, signature = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r;
            r.Read();
            if (name.ValueTextEquals("text"u8) && r.TokenType == JsonTokenType.String)
            {
                textStart = (int)r.TokenStartIndex;
                textLength = r.ValueSpan.Length + 2; // the raw JSON string, quotes included, escapes kept
            }
            else if (name.ValueTextEquals("thought"u8)) thought = r.TokenType == JsonTokenType.True;
            else if (name.ValueTextEquals("thoughtSignature"u8) && r.TokenType == JsonTokenType.String) signature = r.GetString();
            else if (name.ValueTextEquals("functionCall"u8) && r.TokenType == JsonTokenType.StartObject)
            {
                isCall = true;
                (callName, arguments) = ReadFunctionCall(ref r);
            }
            else r.Skip();
        }
        if (thought) return;
        if (isCall) WriteToolCall(output, callName ?? "", arguments ?? "{}", signature, ref state);
        else if (textLength > 2) WriteText(output, data.Slice(textStart, textLength), ref state);
    }

    private static (string? Name, string? Arguments) ReadFunctionCall(ref Utf8JsonReader r)
    {
        string? name = null, arguments = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r;
            r.Read();
            if (key.ValueTextEquals("name"u8) && r.TokenType == JsonTokenType.String) name = r.GetString();
            else if (key.ValueTextEquals("args"u8) && r.TokenType == JsonTokenType.StartObject)
            {
                using var args = JsonDocument.ParseValue(ref r);
                arguments = GeminiAnswer.Arguments(args.RootElement, isArgs: true);
            }
            else r.Skip();
        }
        return (name, arguments);
    }

    private static (string? Reason, string? Message) ReadFeedback(ref Utf8JsonReader r)
    {
        string? reason = null, message = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r;
            r.Read();
            if (key.ValueTextEquals("blockReason"u8) && r.TokenType == JsonTokenType.String) reason = r.GetString();
            else if (key.ValueTextEquals("blockReasonMessage"u8) && r.TokenType == JsonTokenType.String) message = r.GetString();
            else r.Skip();
        }
        return (reason, message);
    }

    private void WriteText(IBufferWriter<byte> output, ReadOnlySpan<byte> rawJsonString, ref StreamState state)
    {
        var w = Begin(output);
        w.WriteStartObject("delta"u8);
        WriteRoleOnce(w);
        w.WritePropertyName("content"u8);
        // Gemini's own JSON string goes on as it came: no unescape and escape again per chunk.
        w.WriteRawValue(rawJsonString, skipInputValidation: true);
        w.WriteEndObject();
        End(w, output, null, ref state);
    }

    private void WriteToolCall(IBufferWriter<byte> output, string name, string arguments, string? signature, ref StreamState state)
    {
        var w = Begin(output);
        w.WriteStartObject("delta"u8);
        WriteRoleOnce(w);
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, _toolCalls);
        w.WriteString("id"u8, ToolCallIds.Create(context.RequestId, _toolCalls, signature));
        w.WriteString("type"u8, "function");
        w.WriteStartObject("function"u8);
        w.WriteString("name"u8, name);
        w.WriteString("arguments"u8, arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        End(w, output, null, ref state);
        _toolCalls++;
    }

    private void WriteRoleOnce(Utf8JsonWriter w)
    {
        if (_roleSent) return;
        w.WriteString("role"u8, "assistant");
        _roleSent = true;
    }

    /// <summary>Starts a chunk up to the open choice object, ready for its delta.</summary>
    private Utf8JsonWriter Begin(IBufferWriter<byte> output)
    {
        var w = StartEvent(output);
        WriteEnvelope(w);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        return w;
    }

    private static void End(Utf8JsonWriter w, IBufferWriter<byte> output, string? finishReason, ref StreamState state)
    {
        w.WriteNull("logprobs"u8);
        if (finishReason is null) w.WriteNull("finish_reason"u8);
        else w.WriteString("finish_reason"u8, finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        EndEvent(w, output, ref state);
    }

    private Utf8JsonWriter StartEvent(IBufferWriter<byte> output)
    {
        Raw(output, "data: "u8);
        if (_writer is null) _writer = new Utf8JsonWriter(output, JsonOutput.Options);
        else _writer.Reset(output);
        return _writer;
    }

    private void WriteEnvelope(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, _id);
        w.WriteString("object"u8, "chat.completion.chunk"u8);
        w.WriteNumber("created"u8, context.Created);
        w.WriteString("model"u8, _model);
    }

    private static void EndEvent(Utf8JsonWriter w, IBufferWriter<byte> output, ref StreamState state)
    {
        w.Flush();
        Raw(output, "\n\n"u8);
        state.EventsWritten++;
    }

    private static void Fail(IBufferWriter<byte> output, UpstreamFailure failure, ref StreamState state)
    {
        OpenAiError.WriteEvent(output, failure.Message, failure.Type, failure.Code);
        state.EventsWritten++;
        state.Failed = true;
    }

    private static void Raw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
