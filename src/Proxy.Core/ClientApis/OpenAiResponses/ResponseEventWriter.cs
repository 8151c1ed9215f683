using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// Neutral answer events as the Responses API's typed SSE events (<c>event: &lt;type&gt;</c>, data carrying the same
/// type and a sequence_number from 0): response.created and response.in_progress; per item output_item.added, then for
/// a message content_part.added, output_text.delta..., output_text.done, content_part.done; for reasoning the summary
/// events (reasoning_summary_part.added, reasoning_summary_text.delta/.done, reasoning_summary_part.done: the summary
/// events are the ones every SDK and UI parses, and what Claude and Gemini return is summarized thinking); for a
/// function call function_call_arguments.delta/.done; then output_item.done; finally response.completed, or
/// response.incomplete when the model hit the token cap or a filter. A failure is an <c>error</c> event (see
/// <see cref="WriteErrorEvent"/>). A keep-alive is an SSE comment. One instance per stream.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The Utf8JsonWriter writes to the relay's IBufferWriter and holds nothing to release; it is reused across events.")]
public sealed class ResponseEventWriter(long created, ResponseRequestFacts facts, string responseId) : ResponseAnswerWriter(created, facts, responseId)
{
    private Utf8JsonWriter? _writer;
    private int _sequence;

    /// <summary>The sequence number the next event gets.</summary>
    public int NextSequenceNumber => _sequence;

    /// <summary>Claims the next sequence number for an event written outside this writer (the gateway's own error event).</summary>
    public int TakeSequenceNumber() => _sequence++;

    /// <summary>
    /// The error event that ends a failed stream: the published schema's flat fields (code, message, param) and the same
    /// nested under "error", as OpenAI now sends it. Both SDKs then raise it as an API error: Node throws on any
    /// <c>event: error</c>, Python only on data with an "error" object (a <c>response.failed</c> event neither raises).
    /// </summary>
    public static void WriteErrorEvent(IBufferWriter<byte> output, int sequenceNumber, string message, string type, string? code)
    {
        Copy(output, "event: error\ndata: "u8);
        using (var w = new Utf8JsonWriter(output, JsonOutput.Options))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "error"u8);
            w.WriteNumber("sequence_number"u8, sequenceNumber);
            WriteCode(w, code);
            w.WriteString("message"u8, message);
            w.WriteNull("param"u8);
            w.WriteStartObject("error"u8);
            w.WriteString("type"u8, type);
            WriteCode(w, code);
            w.WriteString("message"u8, message);
            w.WriteNull("param"u8);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        Copy(output, "\n\n"u8);
    }

    public override void KeepAlive()
    {
        Raw(": ping\n\n"u8);
        Wrote();
    }

    protected override void OnStarted()
    {
        WriteResponseEvent("response.created"u8);
        WriteResponseEvent("response.in_progress"u8);
    }

    protected override void OnItemAdded(OutputItem item)
    {
        var w = Begin("response.output_item.added"u8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WritePropertyName("item"u8);
        item.Write(w, asAdded: true);
        End(w);
        if (item.Kind == OutputItemKind.Message)
        {
            w = BeginPartEvent("response.content_part.added"u8, item, "content_index"u8);
            w.WritePropertyName("part"u8);
            item.WriteTextPart(w, empty: true);
            End(w);
        }
        else if (item.Kind == OutputItemKind.Reasoning)
        {
            w = BeginPartEvent("response.reasoning_summary_part.added"u8, item, "summary_index"u8);
            w.WritePropertyName("part"u8);
            item.WriteSummaryPart(w, empty: true);
            End(w);
        }
    }

    protected override void OnDelta(OutputItem item, ReadOnlySpan<byte> token)
    {
        var w = item.Kind switch
        {
            OutputItemKind.Message => BeginPartEvent("response.output_text.delta"u8, item, "content_index"u8),
            OutputItemKind.Reasoning => BeginPartEvent("response.reasoning_summary_text.delta"u8, item, "summary_index"u8),
            _ => BeginItemEvent("response.function_call_arguments.delta"u8, item),
        };
        w.WritePropertyName("delta"u8);
        w.WriteRawValue(token, skipInputValidation: true);
        if (item.Kind == OutputItemKind.Message) EmptyArray(w, "logprobs"u8);
        End(w);
    }

    protected override void OnItemDone(OutputItem item)
    {
        Utf8JsonWriter w;
        switch (item.Kind)
        {
            case OutputItemKind.Message:
                w = BeginPartEvent("response.output_text.done"u8, item, "content_index"u8);
                WriteText(w, "text"u8, item);
                EmptyArray(w, "logprobs"u8);
                End(w);
                w = BeginPartEvent("response.content_part.done"u8, item, "content_index"u8);
                w.WritePropertyName("part"u8);
                item.WriteTextPart(w);
                End(w);
                break;
            case OutputItemKind.Reasoning:
                w = BeginPartEvent("response.reasoning_summary_text.done"u8, item, "summary_index"u8);
                WriteText(w, "text"u8, item);
                End(w);
                w = BeginPartEvent("response.reasoning_summary_part.done"u8, item, "summary_index"u8);
                w.WritePropertyName("part"u8);
                item.WriteSummaryPart(w);
                End(w);
                break;
            default:
                w = BeginItemEvent("response.function_call_arguments.done"u8, item);
                w.WritePropertyName("name"u8);
                w.WriteRawValue(item.Name, skipInputValidation: true);
                WriteText(w, "arguments"u8, item);
                End(w);
                break;
        }
        w = Begin("response.output_item.done"u8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WritePropertyName("item"u8);
        item.Write(w, asAdded: false);
        End(w);
    }

    protected override void OnEnded()
    {
        var response = ResponseJson;
        var w = Begin(Status == ResponseStatus.Incomplete ? "response.incomplete"u8 : "response.completed"u8);
        w.WritePropertyName("response"u8);
        w.WriteRawValue(response, skipInputValidation: true);
        End(w);
    }

    protected override void OnFailed(string message, string type, string? code)
    {
        WriteErrorEvent(Output, _sequence++, message, type, code);
        Wrote();
    }

    private void WriteResponseEvent(ReadOnlySpan<byte> type)
    {
        var w = Begin(type);
        w.WritePropertyName("response"u8);
        WriteResponse(w, withOutput: false);
        End(w);
    }

    /// <summary>Starts an event about an item: <c>item_id</c> and <c>output_index</c>.</summary>
    private Utf8JsonWriter BeginItemEvent(ReadOnlySpan<byte> type, OutputItem item)
    {
        var w = Begin(type);
        w.WriteString("item_id"u8, item.Id);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        return w;
    }

    /// <summary>Starts an event about an item's one part (its content or summary part, always index 0).</summary>
    private Utf8JsonWriter BeginPartEvent(ReadOnlySpan<byte> type, OutputItem item, ReadOnlySpan<byte> indexName)
    {
        var w = BeginItemEvent(type, item);
        w.WriteNumber(indexName, 0);
        return w;
    }

    /// <summary>Writes <c>event: &lt;type&gt;</c> and starts the data object with its type and sequence number.</summary>
    private Utf8JsonWriter Begin(ReadOnlySpan<byte> type)
    {
        Raw("event: "u8);
        Raw(type);
        Raw("\ndata: "u8);
        var w = _writer ??= new Utf8JsonWriter(Output, JsonOutput.Options);
        w.Reset(Output);
        w.WriteStartObject();
        w.WriteString("type"u8, type);
        w.WriteNumber("sequence_number"u8, _sequence++);
        return w;
    }

    private void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        Raw("\n\n"u8);
        Wrote();
    }

    private static void WriteText(Utf8JsonWriter w, ReadOnlySpan<byte> name, OutputItem item)
    {
        w.WritePropertyName(name);
        Answers.AnswerText.WriteString(w, item.Content.WrittenSpan);
    }

    private static void EmptyArray(Utf8JsonWriter w, ReadOnlySpan<byte> name)
    {
        w.WriteStartArray(name);
        w.WriteEndArray();
    }

    private static void WriteCode(Utf8JsonWriter w, string? code)
    {
        if (code is null) w.WriteNull("code"u8);
        else w.WriteString("code"u8, code);
    }

    private static void Copy(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
