using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Providers.Bedrock.EventStream;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// ConverseStream's binary event stream as OpenAI chat.completion.chunk SSE, frame by frame as the bytes arrive:
/// messageStart is the role chunk, text deltas are content chunks, a toolUse block start and its input deltas are
/// tool_calls chunks (one tool index per toolUse block), messageStop is the finish chunk, metadata carries the usage
/// (a usage chunk when the client asked for one) and ends the stream with [DONE]. Exception frames end it with an
/// OpenAI-shaped error event; a corrupt frame (CRC, impossible length) does too, and nothing after it is read.
/// Strings are copied from the upstream JSON as they are (already escaped), so a delta costs no decode or encode.
/// </summary>
public sealed class ConverseStreamTranscoder(string id, long created, string model, bool includeUsage, string provider) : StreamTranscoder
{
    private readonly JsonEncodedText _id = JsonEncodedText.Encode(id, JsonOutput.Options.Encoder);
    private readonly JsonEncodedText _model = JsonEncodedText.Encode(model, JsonOutput.Options.Encoder);
    private Utf8JsonWriter? _writer;
    private List<int>? _toolBlocks; // Converse contentBlockIndex of each tool call, in tool-call order
    private bool _roleSent;

    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;
    private static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    public override void Transcode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output, ref StreamState state)
    {
        while (!state.Completed && !state.Failed)
        {
            ReadOnlySequence<byte> frame;
            try
            {
                if (!EventStreamFrame.TryTake(ref input, out frame)) return;
                OnFrame(frame, output, ref state);
            }
            catch (EventStreamFormatException e)
            {
                // Nothing after a broken frame can be trusted; the client hears why and the stream ends.
                input = input.Slice(input.End);
                Fail(output, ref state, $"Upstream '{provider}' sent a corrupt event stream: {e.Message}.", OpenAiError.Upstream, "upstream_stream_corrupt");
            }
            catch (JsonException e)
            {
                input = input.Slice(input.End);
                Fail(output, ref state, $"Upstream '{provider}' sent an event whose payload is not JSON: {e.Message}", OpenAiError.Upstream, "upstream_stream_corrupt");
            }
        }
    }

    private void OnFrame(in ReadOnlySequence<byte> frame, IBufferWriter<byte> output, ref StreamState state)
    {
        if (frame.IsSingleSegment)
        {
            OnMessage(EventStreamFrame.Decode(frame.FirstSpan), output, ref state);
            return;
        }
        // A frame split across pooled segments is copied once so the decoder and the JSON reader see one span.
        int length = (int)frame.Length;
        byte[]? rented = null;
        Span<byte> copy = length <= 2048 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            frame.CopyTo(copy);
            OnMessage(EventStreamFrame.Decode(copy), output, ref state);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void OnMessage(EventStreamMessage message, IBufferWriter<byte> output, ref StreamState state)
    {
        var messageType = message.MessageType;
        if (messageType.SequenceEqual("event"u8))
        {
            var type = message.EventType;
            if (type.SequenceEqual("contentBlockDelta"u8)) OnDelta(message.Payload, output, ref state);
            else if (type.SequenceEqual("messageStart"u8)) OnMessageStart(output, ref state);
            else if (type.SequenceEqual("contentBlockStart"u8)) OnBlockStart(message.Payload, output, ref state);
            else if (type.SequenceEqual("messageStop"u8)) OnMessageStop(message.Payload, output, ref state);
            else if (type.SequenceEqual("metadata"u8)) OnMetadata(message.Payload, output, ref state);
            // contentBlockStop and event types newer than this code carry nothing a chat.completion.chunk can hold.
            return;
        }
        if (messageType.SequenceEqual("exception"u8))
        {
            var type = Encoding.UTF8.GetString(message.ExceptionType);
            var text = PayloadMessage(message.Payload);
            var failure = BedrockErrors.Classify(provider, 500, type, text);
            Fail(output, ref state, $"Upstream '{provider}' stream failed ({BedrockErrors.Normalize(type) ?? "exception"}): {text ?? "no message"}",
                failure.Type, failure.Code);
            return;
        }
        if (messageType.SequenceEqual("error"u8))
        {
            var code = Encoding.UTF8.GetString(message.StringHeader(":error-code"u8));
            var text = Encoding.UTF8.GetString(message.StringHeader(":error-message"u8));
            Fail(output, ref state, $"Upstream '{provider}' stream failed ({code}): {text}", OpenAiError.Upstream, "upstream_error");
        }
    }

    private void OnMessageStart(IBufferWriter<byte> output, ref StreamState state)
    {
        if (_roleSent) return;
        _roleSent = true;
        var w = BeginChoiceChunk(output);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("content"u8, ""u8);
        EndChoiceChunk(output, ref state, finishReason: default);
    }

    private void OnBlockStart(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, ref StreamState state)
    {
        int block = -1;
        Range toolId = default, toolName = default;
        bool isTool = false;
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("contentBlockIndex"u8)) block = ReadIndex(ref reader);
            else if (reader.ValueTextEquals("start"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("toolUse"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        isTool = true;
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("toolUseId"u8)) toolId = RawString(ref reader);
                            else if (reader.ValueTextEquals("name"u8)) toolName = RawString(ref reader);
                            else Skip(ref reader);
                        }
                    }
                    else Skip(ref reader);
                }
            }
            else Skip(ref reader);
        }
        if (!isTool) return;
        int index = ToolIndex(block);
        var w = BeginChoiceChunk(output);
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, index);
        WriteRaw(w, "id"u8, payload, toolId);
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        WriteRaw(w, "name"u8, payload, toolName);
        w.WriteString("arguments"u8, ""u8);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndChoiceChunk(output, ref state, finishReason: default);
    }

    private void OnDelta(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, ref StreamState state)
    {
        int block = -1;
        Range text = default, toolInput = default;
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("contentBlockIndex"u8)) block = ReadIndex(ref reader);
            else if (reader.ValueTextEquals("delta"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("text"u8)) text = RawString(ref reader);
                    else if (reader.ValueTextEquals("toolUse"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("input"u8)) toolInput = RawString(ref reader);
                            else Skip(ref reader);
                        }
                    }
                    // reasoningContent and citation deltas have no place in a chat.completion.chunk.
                    else Skip(ref reader);
                }
            }
            else Skip(ref reader);
        }
        if (IsNonEmpty(text))
        {
            var w = BeginChoiceChunk(output);
            WriteRaw(w, "content"u8, payload, text);
            EndChoiceChunk(output, ref state, finishReason: default);
        }
        else if (IsNonEmpty(toolInput))
        {
            var w = BeginChoiceChunk(output);
            w.WriteStartArray("tool_calls"u8);
            w.WriteStartObject();
            w.WriteNumber("index"u8, ToolIndex(block));
            w.WriteStartObject("function"u8);
            WriteRaw(w, "arguments"u8, payload, toolInput);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            EndChoiceChunk(output, ref state, finishReason: default);
        }
    }

    private void OnMessageStop(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, ref StreamState state)
    {
        ReadOnlySpan<byte> finish = "stop"u8;
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("stopReason"u8) && reader.Read() && reader.TokenType == JsonTokenType.String) finish = StopReasons.ToFinishReason(reader.ValueSpan);
            else Skip(ref reader);
        }
        BeginChoiceChunk(output);
        EndChoiceChunk(output, ref state, finish);
    }

    /// <summary>The last event: usage, then [DONE]. The stream is complete only once it has arrived.</summary>
    private void OnMetadata(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, ref StreamState state)
    {
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject) ConverseUsage.Read(ref reader, ref state.Usage);
            else Skip(ref reader);
        }
        if (includeUsage && state.Usage.Reported)
        {
            var w = BeginChunk(output);
            w.WriteStartArray("choices"u8);
            w.WriteEndArray();
            ConverseUsage.Write(w, state.Usage);
            EndChunk(output, ref state);
        }
        Done.CopyTo(output.GetSpan(Done.Length));
        output.Advance(Done.Length);
        state.EventsWritten++;
        state.Completed = true;
    }

    private Utf8JsonWriter BeginChunk(IBufferWriter<byte> output)
    {
        DataPrefix.CopyTo(output.GetSpan(DataPrefix.Length));
        output.Advance(DataPrefix.Length);
        var w = _writer ??= new Utf8JsonWriter(output, JsonOutput.Options);
        w.Reset(output);
        w.WriteStartObject();
        w.WriteString("id"u8, _id);
        w.WriteString("object"u8, "chat.completion.chunk"u8);
        w.WriteNumber("created"u8, created);
        w.WriteString("model"u8, _model);
        return w;
    }

    private void EndChunk(IBufferWriter<byte> output, ref StreamState state)
    {
        var w = _writer!;
        w.WriteEndObject();
        w.Flush();
        EventEnd.CopyTo(output.GetSpan(EventEnd.Length));
        output.Advance(EventEnd.Length);
        state.EventsWritten++;
    }

    /// <summary>Opens a chunk with one choice and leaves the writer inside its delta object.</summary>
    private Utf8JsonWriter BeginChoiceChunk(IBufferWriter<byte> output)
    {
        var w = BeginChunk(output);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("delta"u8);
        return w;
    }

    private void EndChoiceChunk(IBufferWriter<byte> output, ref StreamState state, ReadOnlySpan<byte> finishReason)
    {
        var w = _writer!;
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        if (finishReason.IsEmpty) w.WriteNull("finish_reason"u8);
        else w.WriteString("finish_reason"u8, finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        // With include_usage OpenAI sends "usage": null on every chunk but the last one.
        if (includeUsage) w.WriteNull("usage"u8);
        EndChunk(output, ref state);
    }

    private void Fail(IBufferWriter<byte> output, ref StreamState state, string message, string type, string? code)
    {
        OpenAiError.WriteEvent(output, message, type, code);
        state.EventsWritten++;
        state.Failed = true;
    }

    /// <summary>The tool-call index OpenAI clients accumulate by, for a Converse content block.</summary>
    private int ToolIndex(int block)
    {
        var blocks = _toolBlocks ??= [];
        int at = blocks.IndexOf(block);
        if (at >= 0) return at;
        blocks.Add(block);
        return blocks.Count - 1;
    }

    private static int ReadIndex(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : -1;
    }

    /// <summary>Where a string value sits in the payload, quotes included, so it can be copied as is.</summary>
    private static Range RawString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String) return default;
        int start = (int)reader.TokenStartIndex;
        return new Range(start, start + reader.ValueSpan.Length + 2);
    }

    private static bool IsNonEmpty(Range raw) => raw.End.Value - raw.Start.Value > 2;

    private static void WriteRaw(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> payload, Range raw)
    {
        w.WritePropertyName(name);
        if (raw.End.Value == 0) w.WriteStringValue(""u8);
        else w.WriteRawValue(payload[raw], skipInputValidation: true);
    }

    private static void Skip(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    private static string? PayloadMessage(ReadOnlySpan<byte> payload)
    {
        try
        {
            return OpenAiError.FindMessage(payload) ?? (payload.IsEmpty ? null : Encoding.UTF8.GetString(payload));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
