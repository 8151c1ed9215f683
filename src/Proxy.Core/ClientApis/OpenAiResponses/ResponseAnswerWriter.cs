using System.Buffers;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>The status a Responses answer has (the response object's <c>status</c>).</summary>
public enum ResponseStatus : byte
{
    InProgress,
    Completed,
    Incomplete,
    Failed,
}

/// <summary>
/// Neutral answer events gathered into the output items of one Responses answer, for both writers: the stream writer
/// announces each step as it happens (the hooks), the plain one writes the response object at the end. Both need the
/// gathered items, since <c>.done</c> events and the final response object repeat everything, and the store keeps them
/// (<see cref="ResponseJson"/>, <see cref="OutputItemsJson"/>).
/// <para>
/// Items follow the answer's order: text opens a message item, reasoning a reasoning item, each tool call a
/// function_call item; an item ends when one of another kind begins. Tool calls stay open together until text or
/// reasoning follows (or the end), since a provider may stream several calls' arguments interleaved.
/// </para>
/// </summary>
public abstract class ResponseAnswerWriter : AnswerWriter
{
    private static readonly byte[] EmptyObjectArguments = "\"{}\""u8.ToArray();

    private readonly List<OutputItem> _items = [];
    private readonly List<OutputItem?> _callsByIndex = [];
    private readonly List<OutputItem> _openCalls = [];
    private readonly string _idBase;
    private OutputItem? _open;
    private byte[]? _model;
    private bool _started;
    private FinishReason _finish;
    private byte[]? _responseJson;

    protected ResponseAnswerWriter(long created, ResponseRequestFacts facts, string responseId)
    {
        CreatedAt = created;
        Facts = facts;
        ResponseId = responseId;
        _idBase = ResponseIds.BaseOfResponse(responseId);
    }

    public string ResponseId { get; }

    public long CreatedAt { get; }

    public ResponseRequestFacts Facts { get; }

    public ResponseStatus Status { get; private set; }

    public IReadOnlyList<OutputItem> Items => _items;

    /// <summary>The response object as it stands (final once the answer completed or failed), for the store and the last event.</summary>
    public byte[] ResponseJson
    {
        get
        {
            if (_responseJson is not null) return _responseJson;
            var json = Build(static (self, w) => self.WriteResponse(w, withOutput: true));
            if (Completed || Failed) _responseJson = json;
            return json;
        }
    }

    /// <summary>The output items as a JSON array, for the store (a later turn's history).</summary>
    public byte[] OutputItemsJson => Build(static (self, w) =>
    {
        w.WriteStartArray();
        foreach (var item in self._items) item.Write(w, asAdded: false);
        w.WriteEndArray();
    });

    public sealed override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model)
    {
        if (_started) return;
        _started = true;
        if (model.Length > 2) _model = model.ToArray();
        OnStarted();
    }

    public sealed override void Text(ReadOnlySpan<byte> text)
    {
        if (text.Length <= 2 || Completed || Failed) return;
        var item = Open(OutputItemKind.Message);
        item.Append(text);
        OnDelta(item, text);
    }

    public sealed override void Reasoning(ReadOnlySpan<byte> text)
    {
        if (text.Length <= 2 || Completed || Failed) return;
        var item = Open(OutputItemKind.Reasoning);
        item.Append(text);
        OnDelta(item, text);
    }

    public sealed override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name)
    {
        if (index < 0 || Completed || Failed) return;
        EnsureStarted();
        CloseOpen(OutputItemStatus.Completed);
        int n = _items.Count;
        var item = new OutputItem(OutputItemKind.FunctionCall, ResponseIds.Item("fc", _idBase, n), n)
        {
            // A call needs an id for its output to refer back to; a provider that gave none gets one made up.
            CallId = id.Length > 2 ? id.ToArray() : AnswerText.Quote(ResponseIds.Item("call", _idBase, n)),
            Name = name.Length >= 2 ? name.ToArray() : "\"\""u8.ToArray(),
        };
        _items.Add(item);
        while (_callsByIndex.Count <= index) _callsByIndex.Add(null);
        _callsByIndex[index] = item;
        _openCalls.Add(item);
        OnItemAdded(item);
    }

    public sealed override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment)
    {
        if (fragment.Length <= 2 || index < 0 || index >= _callsByIndex.Count || _callsByIndex[index] is not { } item || Completed || Failed) return;
        item.Append(fragment);
        OnDelta(item, fragment);
    }

    public sealed override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default)
    {
        if (reason != FinishReason.None) _finish = reason;
    }

    public sealed override void End()
    {
        if (Completed || Failed) return;
        EnsureStarted();
        Status = IncompleteReason(_finish).IsEmpty ? ResponseStatus.Completed : ResponseStatus.Incomplete;
        var itemStatus = Status == ResponseStatus.Completed ? OutputItemStatus.Completed : OutputItemStatus.Incomplete;
        CloseOpen(itemStatus);
        CloseCalls(itemStatus);
        MarkCompleted(); // first: the final response object is cached from here on, and OnEnded writes it
        OnEnded();
        // Before the relay sends the last bytes: a client that continues at once must find the response stored.
        Finished?.Invoke(this);
    }

    /// <summary>Called once the answer is complete and written to the output, before any of that output is sent.</summary>
    public Action<ResponseAnswerWriter>? Finished { get; set; }

    public sealed override void Error(string message, string type, string? code, int status)
    {
        if (Completed || Failed) return;
        Failure = new UpstreamFailure(status, type, code, message, false);
        Status = ResponseStatus.Failed;
        if (_open is not null) _open.Status = OutputItemStatus.Incomplete;
        foreach (var call in _openCalls) call.Status = OutputItemStatus.Incomplete;
        MarkFailed();
        OnFailed(message, type, code);
    }

    /// <summary>The answer began (its first event, whatever it is).</summary>
    protected virtual void OnStarted()
    {
    }

    /// <summary>An output item began.</summary>
    protected virtual void OnItemAdded(OutputItem item)
    {
    }

    /// <summary>A piece of an item's text (a JSON string token), already gathered into the item.</summary>
    protected virtual void OnDelta(OutputItem item, ReadOnlySpan<byte> token)
    {
    }

    /// <summary>An output item is complete (its <see cref="OutputItem.Status"/> set).</summary>
    protected virtual void OnItemDone(OutputItem item)
    {
    }

    /// <summary>The answer completed; <see cref="Status"/> says how. The output is bound.</summary>
    protected abstract void OnEnded();

    /// <summary>The answer failed; <see cref="AnswerWriter.Failure"/> says why.</summary>
    protected abstract void OnFailed(string message, string type, string? code);

    /// <summary>Writes the response object: output and usage only when <paramref name="withOutput"/> (the first events show none yet).</summary>
    protected void WriteResponse(Utf8JsonWriter w, bool withOutput)
    {
        var facts = Facts;
        w.WriteStartObject();
        w.WriteString("id"u8, ResponseId);
        w.WriteString("object"u8, "response"u8);
        w.WriteNumber("created_at"u8, CreatedAt);
        w.WriteString("status"u8, Status switch
        {
            ResponseStatus.Completed => "completed"u8,
            ResponseStatus.Incomplete => "incomplete"u8,
            ResponseStatus.Failed => "failed"u8,
            _ => "in_progress"u8,
        });
        w.WriteBoolean("background"u8, false);
        if (Status == ResponseStatus.Failed && Failure is { } failure)
        {
            w.WriteStartObject("error"u8);
            w.WriteString("code"u8, failure.Code ?? failure.Type);
            w.WriteString("message"u8, failure.Message);
            w.WriteEndObject();
        }
        else w.WriteNull("error"u8);
        if (Status == ResponseStatus.Incomplete)
        {
            w.WriteStartObject("incomplete_details"u8);
            w.WriteString("reason"u8, IncompleteReason(_finish));
            w.WriteEndObject();
        }
        else w.WriteNull("incomplete_details"u8);
        WriteRaw(w, "instructions"u8, facts.Instructions, "null"u8);
        WriteRaw(w, "max_output_tokens"u8, facts.MaxOutputTokens, "null"u8);
        WriteRaw(w, "model"u8, _model ?? facts.Model, "\"\""u8);
        w.WriteStartArray("output"u8);
        if (withOutput)
        {
            foreach (var item in _items) item.Write(w, asAdded: false);
        }
        w.WriteEndArray();
        w.WriteBoolean("parallel_tool_calls"u8, facts.ParallelToolCalls);
        if (facts.PreviousResponseId is null) w.WriteNull("previous_response_id"u8);
        else w.WriteString("previous_response_id"u8, facts.PreviousResponseId);
        w.WriteBoolean("store"u8, facts.Store);
        WriteRaw(w, "temperature"u8, facts.Temperature, "null"u8);
        WriteRaw(w, "tool_choice"u8, facts.ToolChoice, "\"auto\""u8);
        WriteRaw(w, "tools"u8, facts.Tools, "[]"u8);
        WriteRaw(w, "top_p"u8, facts.TopP, "null"u8);
        w.WriteString("truncation"u8, "disabled"u8);
        if (withOutput && Usage.Reported) ResponseUsageWriter.Write(w, Usage);
        else w.WriteNull("usage"u8);
        WriteRaw(w, "metadata"u8, facts.Metadata, "{}"u8);
        w.WriteEndObject();
    }

    /// <summary>Why an answer that stopped this way is incomplete (Responses' incomplete_details.reason); empty when it is complete.</summary>
    private static ReadOnlySpan<byte> IncompleteReason(FinishReason reason) => reason switch
    {
        FinishReason.Length => "max_output_tokens"u8,
        FinishReason.ContentFilter or FinishReason.Refusal => "content_filter"u8,
        _ => default,
    };

    private void EnsureStarted()
    {
        if (!_started) Start(default, default);
    }

    /// <summary>The open text or reasoning item of this kind, or a new one (which ends whatever was open).</summary>
    private OutputItem Open(OutputItemKind kind)
    {
        EnsureStarted();
        if (_open is { } open && open.Kind == kind) return open;
        CloseOpen(OutputItemStatus.Completed);
        CloseCalls(OutputItemStatus.Completed);
        int n = _items.Count;
        var item = new OutputItem(kind, ResponseIds.Item(kind == OutputItemKind.Message ? "msg" : "rs", _idBase, n), n);
        _items.Add(item);
        _open = item;
        OnItemAdded(item);
        return item;
    }

    private void CloseOpen(OutputItemStatus status)
    {
        if (_open is not { } item) return;
        _open = null;
        item.Status = status;
        OnItemDone(item);
    }

    /// <summary>Ends the open calls. Clients parse a call's arguments as an object: a call that streamed none gets "{}".</summary>
    private void CloseCalls(OutputItemStatus status)
    {
        foreach (var call in _openCalls)
        {
            if (call.Content.WrittenCount == 0)
            {
                call.Append(EmptyObjectArguments);
                OnDelta(call, EmptyObjectArguments);
            }
            call.Status = status;
            OnItemDone(call);
        }
        _openCalls.Clear();
    }

    private static void WriteRaw(Utf8JsonWriter w, ReadOnlySpan<byte> name, byte[]? raw, ReadOnlySpan<byte> fallback)
    {
        w.WritePropertyName(name);
        if (raw is not null) w.WriteRawValue(raw, skipInputValidation: true);
        else w.WriteRawValue(fallback, skipInputValidation: true);
    }

    private byte[] Build(Action<ResponseAnswerWriter, Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options)) write(this, w);
        return buffer.WrittenSpan.ToArray();
    }
}
