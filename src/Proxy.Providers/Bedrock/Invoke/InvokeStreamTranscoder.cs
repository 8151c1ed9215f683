using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Proxy.ClientApis;
using Proxy.Errors;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Bedrock.EventStream;

namespace Proxy.Providers.Bedrock.Invoke;

/// <summary>
/// Claude's answer from InvokeModelWithResponseStream, to a client that speaks Anthropic's Messages API. Bedrock wraps
/// each of Anthropic's stream events in an event-stream frame: a "chunk" event whose payload is
/// <c>{"bytes":"BASE64"}</c>, the base64 of the event's JSON. Each is unwrapped and written as Anthropic's SSE
/// (<c>event: TYPE</c>, <c>data: JSON</c>), the JSON as Bedrock gave it, except message_stop, whose
/// <c>amazon-bedrock-invocationMetrics</c> (Bedrock's own, counts the usage already gave) is dropped so the client sees
/// Anthropic's event. On the way the gateway reads the usage (message_start, message_delta), the end (message_stop) and
/// a failure (Anthropic's error event, passed on). An exception frame (throttling mid-stream) or a corrupt frame ends
/// the stream with the client API's error event. One instance per stream.
/// </summary>
public sealed class InvokeStreamTranscoder(ClientApi api, string provider) : StreamTranscoder
{
    private static ReadOnlySpan<byte> MessageStop => "{\"type\":\"message_stop\"}"u8;

    private AnthropicTokens _tokens;

    public override void Transcode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output, ref StreamState state)
    {
        while (!state.Completed && !state.Failed)
        {
            try
            {
                if (!EventStreamFrame.TryTake(ref input, out var frame)) return;
                OnFrame(frame, output, ref state);
            }
            catch (EventStreamFormatException e)
            {
                // Nothing after a broken frame can be trusted; the client hears why and the stream ends.
                input = input.Slice(input.End);
                Fail(output, ref state, $"Upstream '{provider}' sent a corrupt event stream: {e.Message}.");
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                input = input.Slice(input.End);
                Fail(output, ref state, $"Upstream '{provider}' sent a chunk that is not a base64-wrapped JSON event: {e.Message}");
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
            // "chunk" is the only event InvokeModelWithResponseStream defines; newer ones carry nothing the client expects.
            if (message.EventType.SequenceEqual("chunk"u8)) OnChunk(message.Payload, output, ref state);
            return;
        }
        if (messageType.SequenceEqual("exception"u8))
        {
            var type = Encoding.UTF8.GetString(message.ExceptionType);
            var text = PayloadMessage(message.Payload);
            var failure = BedrockErrors.Classify(provider, 500, type, text);
            api.WriteErrorEvent(output, failure.Status, $"Upstream '{provider}' stream failed ({BedrockErrors.Normalize(type) ?? "exception"}): {text ?? "no message"}",
                failure.Type, failure.Code);
            state.EventsWritten++;
            state.Failed = true;
            return;
        }
        if (messageType.SequenceEqual("error"u8))
        {
            var code = Encoding.UTF8.GetString(message.StringHeader(":error-code"u8));
            var text = Encoding.UTF8.GetString(message.StringHeader(":error-message"u8));
            api.WriteErrorEvent(output, 502, $"Upstream '{provider}' stream failed ({code}): {text}", OpenAiError.Upstream, "upstream_error");
            state.EventsWritten++;
            state.Failed = true;
        }
    }

    private void OnChunk(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, ref StreamState state)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("the chunk payload is not an object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isBytes = reader.ValueTextEquals("bytes"u8);
            reader.Read();
            if (isBytes && reader.TokenType == JsonTokenType.String)
            {
                OnBase64(ref reader, output, ref state);
                return;
            }
            reader.Skip();
        }
        throw new JsonException("the chunk payload has no bytes");
    }

    private void OnBase64(ref Utf8JsonReader reader, IBufferWriter<byte> output, ref StreamState state)
    {
        // Base64 has nothing JSON escapes but '/', which a writer may send as "\/": only then is the token unescaped first.
        int length = reader.ValueIsEscaped ? reader.ValueSpan.Length : 0;
        byte[]? rentedText = length > 0 ? ArrayPool<byte>.Shared.Rent(length) : null;
        scoped ReadOnlySpan<byte> base64 = rentedText is null ? reader.ValueSpan : rentedText.AsSpan(0, reader.CopyString(rentedText));
        int max = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
        byte[]? rented = null;
        Span<byte> decoded = max <= 2048 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max)).AsSpan(0, max);
        try
        {
            if (Base64.DecodeFromUtf8(base64, decoded, out _, out int written) != OperationStatus.Done)
                throw new FormatException("the chunk's bytes are not base64");
            OnEvent(decoded[..written], output, ref state);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            if (rentedText is not null) ArrayPool<byte>.Shared.Return(rentedText);
        }
    }

    /// <summary>One of Anthropic's stream events (its JSON), written as Anthropic's SSE and read for what the gateway needs.</summary>
    private void OnEvent(ReadOnlySpan<byte> json, IBufferWriter<byte> output, ref StreamState state)
    {
        var type = TypeName(json);
        var data = json;
        switch (AnthropicStreamEvent.PeekType(json))
        {
            case EventType.MessageStart or EventType.MessageDelta:
                AnthropicStreamEvent.Parse(json, ref _tokens);
                _tokens.ApplyTo(ref state.Usage);
                break;
            case EventType.MessageStop:
                data = MessageStop;
                state.Completed = true;
                break;
            case EventType.Error:
                state.Failed = true;
                break;
        }
        Write(output, "event: "u8);
        Write(output, type);
        WriteData(output, data);
        state.EventsWritten++;
    }

    /// <summary>
    /// The data line(s). Bedrock's events are one line of JSON; should one hold line breaks (whitespace between tokens,
    /// as JSON strings cannot hold them raw), each line gets its own data: field, which SSE joins back with "\n".
    /// </summary>
    private static void WriteData(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            int newline = data.IndexOfAny((byte)'\n', (byte)'\r');
            Write(output, "\ndata: "u8);
            if (newline < 0) break;
            Write(output, data[..newline]);
            bool crlf = data[newline] == (byte)'\r' && newline + 1 < data.Length && data[newline + 1] == (byte)'\n';
            data = data[(newline + (crlf ? 2 : 1))..];
        }
        Write(output, data);
        Write(output, "\n\n"u8);
    }

    /// <summary>The top-level type's raw value (Anthropic's event names are plain ASCII); empty when absent.</summary>
    private static ReadOnlySpan<byte> TypeName(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("the event is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped) return json.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
            reader.Skip();
        }
        throw new JsonException("the event has no type");
    }

    private void Fail(IBufferWriter<byte> output, ref StreamState state, string message)
    {
        api.WriteErrorEvent(output, 502, message, OpenAiError.Upstream, "upstream_stream_corrupt");
        state.EventsWritten++;
        state.Failed = true;
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
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
