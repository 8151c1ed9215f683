using System.Buffers;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// A whole Anthropic Message read into neutral events, ending with End: Start(id, model); per content block in order,
/// text → Text, thinking → Reasoning then ReasoningSignature, tool_use → ToolCallStart and its input as one
/// ToolCallArguments fragment; the normalized usage; Finish from stop_reason (with stop_sequence's value). Strings
/// go out as the upstream escaped them; only a tool's input, an object in the Message, is encoded as a string.
/// Redacted-thinking and server-tool blocks have no neutral counterpart and are left out.
/// </summary>
internal static class AnthropicMessageDecoder
{
    /// <summary>Throws <see cref="InvalidUpstreamAnswerException"/> before any event when the Message cannot be read.</summary>
    public static void Decode(ReadOnlySpan<byte> message, AnswerWriter writer)
    {
        // One pass validates the whole answer and finds its parts (the content may come before id and model);
        // the content is read again for the events, so nothing is gathered in between.
        var parts = Scan(message);
        writer.Start(parts.Id.Of(message), parts.Model.Of(message));
        DecodeContent(message.Slice(parts.Content.Start, parts.Content.Length), writer);
        writer.SetUsage(parts.Tokens.ToUsage());
        if (!parts.StopReason.IsEmpty)
            writer.Finish(AnthropicStopReasons.ToFinishReason(parts.StopReason.Unquoted(message)), parts.StopSequence.Of(message));
        writer.End();
    }

    /// <summary>Reads the usage of a Message (for accounting only; never throws).</summary>
    public static void ReadUsage(ReadOnlySpan<byte> message, ref Usage usage)
    {
        var tokens = default(AnthropicTokens);
        var reader = new Utf8JsonReader(message);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isUsage = reader.ValueTextEquals("usage"u8);
                reader.Read();
                if (isUsage && reader.TokenType == JsonTokenType.StartObject)
                {
                    tokens.Read(ref reader);
                    tokens.ApplyTo(ref usage);
                    return;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // A body the client gets as it is; only the accounting misses its counts.
        }
    }

    private ref struct Parts
    {
        public TokenRange Id;
        public TokenRange Model;
        public TokenRange StopReason;
        public TokenRange StopSequence;
        public TokenRange Content;
        public AnthropicTokens Tokens;
    }

    private static Parts Scan(ReadOnlySpan<byte> message)
    {
        var parts = default(Parts);
        var reader = new Utf8JsonReader(message);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidUpstreamAnswerException("the answer is not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8)) parts.Id = StringValue(ref reader);
                else if (reader.ValueTextEquals("model"u8)) parts.Model = StringValue(ref reader);
                else if (reader.ValueTextEquals("stop_reason"u8)) parts.StopReason = StringValue(ref reader);
                else if (reader.ValueTextEquals("stop_sequence"u8)) parts.StopSequence = StringValue(ref reader);
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) parts.Tokens.Read(ref reader);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidUpstreamAnswerException("'content' is not an array");
                    int start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    parts.Content = new TokenRange(start, (int)reader.BytesConsumed - start);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            // Reading on makes the reader refuse data after the object, as broken as a broken object.
            reader.Read();
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not valid JSON (" + e.Message + ")", e);
        }
        if (parts.Content.IsEmpty) throw new InvalidUpstreamAnswerException("the answer has no 'content'");
        return parts;
    }

    /// <summary>The content array (already validated), block by block.</summary>
    private static void DecodeContent(ReadOnlySpan<byte> content, AnswerWriter writer)
    {
        var reader = new Utf8JsonReader(content);
        reader.Read();
        int tools = 0;
        ArrayBufferWriter<byte>? arguments = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            var block = ReadBlock(ref reader);
            switch (block.Kind)
            {
                case PartKind.Text when !block.Text.IsBlankString:
                    writer.Text(block.Text.Of(content));
                    break;
                case PartKind.Thinking:
                    if (!block.Thinking.IsBlankString) writer.Reasoning(block.Thinking.Of(content));
                    if (!block.Signature.IsBlankString) writer.ReasoningSignature(block.Signature.Of(content));
                    break;
                case PartKind.ToolUse:
                    int index = tools++;
                    writer.ToolCallStart(index, block.Id.Of(content), block.Name.Of(content));
                    if (!block.Input.IsEmpty) writer.ToolCallArguments(index, AsStringToken(block.Input.Of(content), arguments ??= new ArrayBufferWriter<byte>(256)));
                    break;
            }
        }
    }

    private ref struct BlockParts
    {
        public PartKind Kind;
        public TokenRange Text;
        public TokenRange Thinking;
        public TokenRange Signature;
        public TokenRange Id;
        public TokenRange Name;
        public TokenRange Input;
    }

    /// <summary>One content block (the reader on its StartObject, left on its EndObject), whatever its fields' order.</summary>
    private static BlockParts ReadBlock(ref Utf8JsonReader reader)
    {
        var block = default(BlockParts);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                block.Kind = reader.TokenType != JsonTokenType.String ? PartKind.Other
                    : reader.ValueTextEquals("text"u8) ? PartKind.Text
                    : reader.ValueTextEquals("thinking"u8) ? PartKind.Thinking
                    : reader.ValueTextEquals("tool_use"u8) ? PartKind.ToolUse
                    : PartKind.Other;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("text"u8)) block.Text = StringValue(ref reader);
            else if (reader.ValueTextEquals("thinking"u8)) block.Thinking = StringValue(ref reader);
            else if (reader.ValueTextEquals("signature"u8)) block.Signature = StringValue(ref reader);
            else if (reader.ValueTextEquals("id"u8)) block.Id = StringValue(ref reader);
            else if (reader.ValueTextEquals("name"u8)) block.Name = StringValue(ref reader);
            else if (reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                block.Input = new TokenRange(start, (int)reader.BytesConsumed - start);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return block;
    }

    /// <summary>The next value's range when it is a string (quotes included); anything else is skipped.</summary>
    private static TokenRange StringValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return default;
        }
        int start = (int)reader.TokenStartIndex;
        return new TokenRange(start, (int)reader.BytesConsumed - start);
    }

    /// <summary>A tool's input (JSON text) as the JSON string token the contract carries arguments in.</summary>
    private static ReadOnlySpan<byte> AsStringToken(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options)) w.WriteStringValue(json);
        return buffer.WrittenSpan;
    }
}
