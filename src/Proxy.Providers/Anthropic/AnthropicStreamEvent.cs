using System.Text.Json;

namespace Proxy.Providers.Anthropic;

/// <summary>Where a value sits in an event's data: a byte range, JSON quotes included for strings.</summary>
internal readonly record struct TokenRange(int Start, int Length)
{
    public bool IsEmpty => Length == 0;

    /// <summary>An empty JSON string ("") or nothing at all.</summary>
    public bool IsBlankString => Length <= 2;

    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> data) => data.Slice(Start, Length);

    /// <summary>The string's bytes without quotes (for ASCII enum values such as stop_reason).</summary>
    public ReadOnlySpan<byte> Unquoted(ReadOnlySpan<byte> data) => Length < 2 ? default : data.Slice(Start + 1, Length - 2);
}

internal enum EventType : byte
{
    Unknown,
    MessageStart,
    ContentBlockStart,
    ContentBlockDelta,
    ContentBlockStop,
    MessageDelta,
    MessageStop,
    Ping,
    Error,
}

/// <summary>What a nested block or delta is: content_block.type or delta.type.</summary>
internal enum PartKind : byte
{
    Other,
    Text,
    ToolUse,
    Thinking,
    TextDelta,
    InputJsonDelta,
    ThinkingDelta,
    SignatureDelta,
}

/// <summary>
/// The fields of one Anthropic stream event the decoders use, read in one pass whatever their order, as ranges into
/// the event's data so text crosses to the client without being decoded and encoded again.
/// </summary>
internal ref struct AnthropicStreamEvent
{
    public EventType Type;
    public int Index;
    public PartKind Kind;
    public TokenRange Text;
    public TokenRange PartialJson;
    public TokenRange Thinking;
    public TokenRange Signature;
    public TokenRange Id;
    public TokenRange Name;
    public TokenRange Model;
    public TokenRange StopReason;
    public TokenRange StopSequence;
    public TokenRange ErrorType;
    public TokenRange ErrorMessage;

    /// <summary>Parses <paramref name="data"/>; usage objects are read straight into <paramref name="tokens"/>. Throws JsonException.</summary>
    public static AnthropicStreamEvent Parse(ReadOnlySpan<byte> data, ref AnthropicTokens tokens)
    {
        var e = default(AnthropicStreamEvent);
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("event data is not an object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                e.Type = TypeOf(ref reader);
            }
            else if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number) reader.TryGetInt32(out e.Index);
            }
            else if (reader.ValueTextEquals("usage"u8)) ReadUsage(ref reader, ref tokens);
            else if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("content_block"u8) || reader.ValueTextEquals("delta"u8)
                     || reader.ValueTextEquals("error"u8))
            {
                bool isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) e.ReadInner(ref reader, isError, ref tokens);
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return e;
    }

    private void ReadInner(ref Utf8JsonReader reader, bool isError, ref AnthropicTokens tokens)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (isError) ErrorType = StringRange(ref reader);
                else Kind = KindOf(ref reader);
            }
            else if (reader.ValueTextEquals("text"u8)) Text = ReadRange(ref reader);
            else if (reader.ValueTextEquals("partial_json"u8)) PartialJson = ReadRange(ref reader);
            else if (reader.ValueTextEquals("thinking"u8)) Thinking = ReadRange(ref reader);
            else if (reader.ValueTextEquals("signature"u8)) Signature = ReadRange(ref reader);
            else if (reader.ValueTextEquals("id"u8)) Id = ReadRange(ref reader);
            else if (reader.ValueTextEquals("name"u8)) Name = ReadRange(ref reader);
            else if (reader.ValueTextEquals("model"u8)) Model = ReadRange(ref reader);
            else if (reader.ValueTextEquals("stop_reason"u8)) StopReason = ReadRange(ref reader);
            else if (reader.ValueTextEquals("stop_sequence"u8)) StopSequence = ReadRange(ref reader);
            else if (reader.ValueTextEquals("message"u8) && isError) ErrorMessage = ReadRange(ref reader);
            else if (reader.ValueTextEquals("usage"u8)) ReadUsage(ref reader, ref tokens);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref AnthropicTokens tokens)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject) tokens.Read(ref reader);
        else reader.Skip();
    }

    private static TokenRange ReadRange(ref Utf8JsonReader reader)
    {
        reader.Read();
        return StringRange(ref reader);
    }

    /// <summary>The range of the current token when it is a string; other values are skipped.</summary>
    private static TokenRange StringRange(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return default;
        }
        int start = (int)reader.TokenStartIndex;
        return new TokenRange(start, (int)reader.BytesConsumed - start);
    }

    private static EventType TypeOf(ref Utf8JsonReader r) =>
        r.TokenType != JsonTokenType.String ? EventType.Unknown
        : r.ValueTextEquals("content_block_delta"u8) ? EventType.ContentBlockDelta
        : r.ValueTextEquals("content_block_start"u8) ? EventType.ContentBlockStart
        : r.ValueTextEquals("content_block_stop"u8) ? EventType.ContentBlockStop
        : r.ValueTextEquals("message_start"u8) ? EventType.MessageStart
        : r.ValueTextEquals("message_delta"u8) ? EventType.MessageDelta
        : r.ValueTextEquals("message_stop"u8) ? EventType.MessageStop
        : r.ValueTextEquals("ping"u8) ? EventType.Ping
        : r.ValueTextEquals("error"u8) ? EventType.Error
        : EventType.Unknown;

    private static PartKind KindOf(ref Utf8JsonReader r) =>
        r.TokenType != JsonTokenType.String ? PartKind.Other
        : r.ValueTextEquals("text_delta"u8) ? PartKind.TextDelta
        : r.ValueTextEquals("input_json_delta"u8) ? PartKind.InputJsonDelta
        : r.ValueTextEquals("thinking_delta"u8) ? PartKind.ThinkingDelta
        : r.ValueTextEquals("signature_delta"u8) ? PartKind.SignatureDelta
        : r.ValueTextEquals("text"u8) ? PartKind.Text
        : r.ValueTextEquals("tool_use"u8) ? PartKind.ToolUse
        : r.ValueTextEquals("thinking"u8) ? PartKind.Thinking
        : PartKind.Other;

    /// <summary>
    /// Only the event's top-level <c>type</c>, for the passthrough, which reads no more of most events: Anthropic writes
    /// <c>type</c> first, so a text delta costs a few tokens. Unknown for data that is not a JSON object with a type.
    /// </summary>
    public static EventType PeekType(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return EventType.Unknown;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isType) return TypeOf(ref reader);
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: the client gets it as it came, and judges it.
        }
        return EventType.Unknown;
    }
}
