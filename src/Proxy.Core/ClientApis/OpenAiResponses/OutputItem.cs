using System.Buffers;
using System.Text.Json;
using Proxy.Answers;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>The kinds of output item a translated answer has.</summary>
public enum OutputItemKind : byte
{
    Message,
    Reasoning,
    FunctionCall,
}

public enum OutputItemStatus : byte
{
    InProgress,
    Completed,
    Incomplete,
}

/// <summary>
/// One output item as it is gathered: its text (a message's output_text, a reasoning item's summary text, a call's
/// arguments) kept as escaped JSON string content, exactly as the upstream's tokens carried it.
/// </summary>
public sealed class OutputItem(OutputItemKind kind, string id, int outputIndex)
{
    private static readonly byte[] EmptyString = "\"\""u8.ToArray();

    public OutputItemKind Kind { get; } = kind;

    public string Id { get; } = id;

    public int OutputIndex { get; } = outputIndex;

    public OutputItemStatus Status { get; set; }

    /// <summary>A function call's call_id (the upstream's tool call id), a JSON string token.</summary>
    public byte[] CallId { get; init; } = EmptyString;

    /// <summary>A function call's name, a JSON string token.</summary>
    public byte[] Name { get; init; } = EmptyString;

    /// <summary>The item's text so far: escaped JSON string content, without quotes.</summary>
    public ArrayBufferWriter<byte> Content { get; } = new(kind == OutputItemKind.FunctionCall ? 64 : 256);

    public void Append(ReadOnlySpan<byte> token) => AnswerText.Append(Content, token);

    /// <summary>
    /// Writes the item as the Responses API shows it: as <c>output_item.added</c> announces it (<paramref name="asAdded"/>:
    /// no content yet), or with everything gathered, as <c>output_item.done</c> and the response object show it.
    /// </summary>
    public void Write(Utf8JsonWriter w, bool asAdded)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, Id);
        switch (Kind)
        {
            case OutputItemKind.Message:
                w.WriteString("type"u8, "message"u8);
                WriteStatus(w, asAdded);
                w.WriteStartArray("content"u8);
                if (!asAdded) WriteTextPart(w);
                w.WriteEndArray();
                w.WriteString("role"u8, "assistant"u8);
                break;
            case OutputItemKind.Reasoning:
                w.WriteString("type"u8, "reasoning"u8);
                w.WriteStartArray("summary"u8);
                if (!asAdded) WriteSummaryPart(w);
                w.WriteEndArray();
                break;
            default:
                w.WriteString("type"u8, "function_call"u8);
                WriteStatus(w, asAdded);
                w.WritePropertyName("arguments"u8);
                if (asAdded) w.WriteStringValue(""u8);
                else AnswerText.WriteString(w, Content.WrittenSpan);
                w.WritePropertyName("call_id"u8);
                w.WriteRawValue(CallId, skipInputValidation: true);
                w.WritePropertyName("name"u8);
                w.WriteRawValue(Name, skipInputValidation: true);
                break;
        }
        w.WriteEndObject();
    }

    /// <summary>A message's one content part: <c>{"type":"output_text","annotations":[],"text":...}</c> (empty as first added).</summary>
    public void WriteTextPart(Utf8JsonWriter w, bool empty = false)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "output_text"u8);
        w.WriteStartArray("annotations"u8);
        w.WriteEndArray();
        w.WriteStartArray("logprobs"u8);
        w.WriteEndArray();
        w.WritePropertyName("text"u8);
        AnswerText.WriteString(w, empty ? default : Content.WrittenSpan);
        w.WriteEndObject();
    }

    /// <summary>A reasoning item's one summary part: <c>{"type":"summary_text","text":...}</c> (empty as first added).</summary>
    public void WriteSummaryPart(Utf8JsonWriter w, bool empty = false)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "summary_text"u8);
        w.WritePropertyName("text"u8);
        AnswerText.WriteString(w, empty ? default : Content.WrittenSpan);
        w.WriteEndObject();
    }

    private void WriteStatus(Utf8JsonWriter w, bool asAdded) => w.WriteString("status"u8, asAdded ? "in_progress"u8 : Status switch
    {
        OutputItemStatus.Completed => "completed"u8,
        OutputItemStatus.Incomplete => "incomplete"u8,
        _ => "in_progress"u8,
    });
}
