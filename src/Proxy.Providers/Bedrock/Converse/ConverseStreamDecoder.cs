using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Providers.Bedrock.EventStream;
using static Proxy.Providers.Bedrock.Converse.ConverseJson;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// ConverseStream's binary event stream read into neutral answer events, frame by frame as the bytes arrive:
/// messageStart starts the answer (Converse gives it no id), text and reasoning deltas are text and reasoning, a toolUse
/// block start and its input deltas are a tool call (one tool index per toolUse block), messageStop is the finish and
/// metadata carries the usage and ends the answer. Exception frames fail it, classified as Bedrock's HTTP errors are;
/// a corrupt frame (CRC, impossible length) or a payload that is not JSON does too, and nothing after it is read.
/// Strings are copied from the payload as they are (already escaped): a delta costs no decode or encode.
/// </summary>
/// <param name="model">The answer's model as a JSON string token (the target's upstream model).</param>
/// <param name="provider">The provider's name, for error messages.</param>
public sealed class ConverseStreamDecoder(byte[] model, string provider) : StreamDecoder
{
    private List<int>? _toolBlocks; // Converse contentBlockIndex of each tool call, in tool-call order

    public override void Decode(ref ReadOnlySequence<byte> input, AnswerWriter writer)
    {
        while (!writer.Completed && !writer.Failed)
        {
            try
            {
                if (!EventStreamFrame.TryTake(ref input, out var frame)) return;
                OnFrame(frame, writer);
            }
            catch (EventStreamFormatException e)
            {
                // Nothing after a broken frame can be trusted; the client hears why and the answer ends.
                input = input.Slice(input.End);
                Corrupt(writer, $"Upstream '{provider}' sent a corrupt event stream: {e.Message}.");
            }
            catch (JsonException e)
            {
                input = input.Slice(input.End);
                Corrupt(writer, $"Upstream '{provider}' sent an event whose payload is not JSON: {e.Message}");
            }
        }
    }

    private void OnFrame(in ReadOnlySequence<byte> frame, AnswerWriter writer)
    {
        if (frame.IsSingleSegment)
        {
            OnMessage(EventStreamFrame.Decode(frame.FirstSpan), writer);
            return;
        }
        // A frame split across pooled segments is copied once so the decoder and the JSON reader see one span.
        int length = (int)frame.Length;
        byte[]? rented = null;
        Span<byte> copy = length <= 2048 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            frame.CopyTo(copy);
            OnMessage(EventStreamFrame.Decode(copy), writer);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void OnMessage(EventStreamMessage message, AnswerWriter writer)
    {
        var messageType = message.MessageType;
        if (messageType.SequenceEqual("event"u8))
        {
            var type = message.EventType;
            if (type.SequenceEqual("contentBlockDelta"u8)) OnDelta(message.Payload, writer);
            else if (type.SequenceEqual("messageStart"u8)) writer.Start(default, model);
            else if (type.SequenceEqual("contentBlockStart"u8)) OnBlockStart(message.Payload, writer);
            else if (type.SequenceEqual("messageStop"u8)) OnMessageStop(message.Payload, writer);
            else if (type.SequenceEqual("metadata"u8)) OnMetadata(message.Payload, writer);
            // contentBlockStop and event types newer than this code carry nothing the answer needs.
            return;
        }
        if (messageType.SequenceEqual("exception"u8))
        {
            var type = Encoding.UTF8.GetString(message.ExceptionType);
            var text = PayloadMessage(message.Payload);
            var failure = BedrockErrors.Classify(provider, 500, type, text);
            writer.Error($"Upstream '{provider}' stream failed ({BedrockErrors.Normalize(type) ?? "exception"}): {text ?? "no message"}",
                failure.Type, failure.Code, failure.Status);
            return;
        }
        if (messageType.SequenceEqual("error"u8))
        {
            var code = Encoding.UTF8.GetString(message.StringHeader(":error-code"u8));
            var text = Encoding.UTF8.GetString(message.StringHeader(":error-message"u8));
            writer.Error($"Upstream '{provider}' stream failed ({code}): {text}", OpenAiError.Upstream, "upstream_error", 502);
        }
    }

    private void OnBlockStart(ReadOnlySpan<byte> payload, AnswerWriter writer)
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
                            if (reader.ValueTextEquals("toolUseId"u8)) toolId = StringToken(ref reader);
                            else if (reader.ValueTextEquals("name"u8)) toolName = StringToken(ref reader);
                            else SkipValue(ref reader);
                        }
                    }
                    else SkipValue(ref reader);
                }
            }
            else SkipValue(ref reader);
        }
        if (isTool) writer.ToolCallStart(ToolIndex(block), Found(toolId) ? payload[toolId] : default, Found(toolName) ? payload[toolName] : default);
    }

    private void OnDelta(ReadOnlySpan<byte> payload, AnswerWriter writer)
    {
        int block = -1;
        Range text = default, toolInput = default, reasoning = default, signature = default;
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("contentBlockIndex"u8)) block = ReadIndex(ref reader);
            else if (reader.ValueTextEquals("delta"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("text"u8)) text = StringToken(ref reader);
                    else if (reader.ValueTextEquals("toolUse"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("input"u8)) toolInput = StringToken(ref reader);
                            else SkipValue(ref reader);
                        }
                    }
                    else if (reader.ValueTextEquals("reasoningContent"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        // redactedContent (encrypted reasoning) has no neutral event: it is left out.
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("text"u8)) reasoning = StringToken(ref reader);
                            else if (reader.ValueTextEquals("signature"u8)) signature = StringToken(ref reader);
                            else SkipValue(ref reader);
                        }
                    }
                    // citation deltas have no neutral event either.
                    else SkipValue(ref reader);
                }
            }
            else SkipValue(ref reader);
        }
        // The whole payload is read before any event, so a payload that is not JSON fails the answer without half of it.
        if (HasContent(text)) writer.Text(payload[text]);
        if (HasContent(toolInput)) writer.ToolCallArguments(ToolIndex(block), payload[toolInput]);
        if (HasContent(reasoning)) writer.Reasoning(payload[reasoning]);
        if (HasContent(signature)) writer.ReasoningSignature(payload[signature]);
    }

    private static void OnMessageStop(ReadOnlySpan<byte> payload, AnswerWriter writer)
    {
        var finish = FinishReason.Stop;
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("stopReason"u8) && reader.Read() && reader.TokenType == JsonTokenType.String) finish = StopReasons.ToFinishReason(reader.ValueSpan);
            else SkipValue(ref reader);
        }
        writer.Finish(finish);
    }

    /// <summary>The last event: the usage. The answer is complete only once it has arrived.</summary>
    private static void OnMetadata(ReadOnlySpan<byte> payload, AnswerWriter writer)
    {
        var usage = default(Usage);
        var reader = new Utf8JsonReader(payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject) ConverseUsage.Read(ref reader, ref usage);
            else SkipValue(ref reader);
        }
        if (usage.Reported) writer.SetUsage(usage);
        writer.End();
    }

    private static void Corrupt(AnswerWriter writer, string message) => writer.Error(message, OpenAiError.Upstream, "upstream_stream_corrupt", 502);

    /// <summary>The tool-call index (tool calls only, from 0) of a Converse content block.</summary>
    private int ToolIndex(int block)
    {
        var blocks = _toolBlocks ??= [];
        int at = blocks.IndexOf(block);
        if (at >= 0) return at;
        blocks.Add(block);
        return blocks.Count - 1;
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
