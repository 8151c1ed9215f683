using System.Buffers;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Errors;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// OpenAI Responses (<c>POST /v1/responses</c>) for providers that do not speak it: the request becomes the canonical
/// chat request (<see cref="ResponsesRequestConverter"/>), the neutral answer a response object or its typed events.
/// Errors are in OpenAI's shape, as OpenAI answers this endpoint.
/// <para>
/// Unlike other client APIs this one has per-request state, which the contract has no other place for: what the
/// answer echoes (<see cref="Facts"/>), the stored conversation a <c>previous_response_id</c> continues
/// (<see cref="Previous"/>), and the writer of the latest attempt (<see cref="Writer"/>), whose final response the
/// gateway stores. The endpoint makes one instance per request (<see cref="ForRequest"/>) and sets it as the call's
/// <see cref="UpstreamCall.Api"/>; the shared instance (<see cref="ClientApi.OpenAiResponses"/>) has none of it and
/// echoes only the model.
/// </para>
/// </summary>
public sealed class OpenAiResponsesApi : ClientApi
{
    private readonly bool _perRequest;

    public OpenAiResponsesApi()
    {
    }

    private OpenAiResponsesApi(ResponseRequestFacts facts, StoredResponse? previous)
    {
        Facts = facts;
        Previous = previous;
        _perRequest = true;
    }

    /// <summary>An instance for one request. <paramref name="previous"/> is the stored response its previous_response_id names.</summary>
    public static OpenAiResponsesApi ForRequest(ResponseRequestFacts facts, StoredResponse? previous = null) => new(facts, previous);

    public ResponseRequestFacts? Facts { get; }

    public StoredResponse? Previous { get; }

    /// <summary>The writer of the latest attempt (retries make a new one), on a per-request instance; its final response is what the store keeps.</summary>
    public ResponseAnswerWriter? Writer { get; private set; }

    /// <summary>
    /// On a per-request instance whose latest attempt passed through to a provider that keeps responses (OpenAI, Azure
    /// OpenAI): the id that provider gave the answer, so the gateway can remember who to ask for it later. Null otherwise.
    /// </summary>
    public string? UpstreamResponseId { get; private set; }

    /// <summary>Notes the provider's id for a passthrough answer (null forgets it: a new attempt); the shared instance notes nothing.</summary>
    public void PassedThrough(string? responseId)
    {
        if (!_perRequest) return;
        UpstreamResponseId = responseId;
        if (responseId is not null) PassthroughNoted?.Invoke(responseId);
    }

    /// <summary>Given the provider's id as soon as it is read: the gateway remembers who keeps the answer, before the client has it.</summary>
    public Action<string>? PassthroughNoted { get; set; }

    public override ApiFormat Format => ApiFormat.OpenAiResponses;

    /// <summary>A continuation of a response the gateway stored: only the gateway has that conversation, so even OpenAI gets it translated.</summary>
    public override bool NeedsTranslation => Previous is not null;

    public override string Name => "responses";

    public override Operation Operation => Operation.ChatCompletions;

    public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
        OpenAiError.Write(output, message, type, param, code);

    /// <summary>The gateway's own error after the stream began, numbered after the stream's last event when this instance knows the stream.</summary>
    public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
        ResponseEventWriter.WriteErrorEvent(output, Writer is ResponseEventWriter stream ? stream.TakeSequenceNumber() : 0, message, type, code);

    public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => OpenAiError.IsOpenAiShape(body);

    public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) =>
        Remember(new ResponseEventWriter(created, FactsFor(call), ResponseIds.ResponseId(call.RequestId)));

    public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) =>
        Remember(new ResponseBodyWriter(created, FactsFor(call), ResponseIds.ResponseId(call.RequestId)));

    public override void WriteChatRequest(ReadOnlySpan<byte> body, IBufferWriter<byte> output) =>
        ResponsesRequestConverter.Write(body, Previous, output);

    private ResponseAnswerWriter Remember(ResponseAnswerWriter writer)
    {
        if (!_perRequest) return writer;
        Writer = writer;
        writer.Finished = Finished;
        return writer;
    }

    /// <summary>Given each attempt's writer: the gateway stores the answer here, before its last bytes reach the client.</summary>
    public Action<ResponseAnswerWriter>? Finished { get; set; }

    /// <summary>The request's facts, or for the shared instance just the model the call asked for.</summary>
    private ResponseRequestFacts FactsFor(in UpstreamCall call)
    {
        if (Facts is not null) return Facts;
        var facts = call.Facts;
        if (!facts.HasModel || facts.ModelStart + facts.ModelLength > call.Body.Length) return ResponseRequestFacts.Empty;
        return new ResponseRequestFacts { Model = call.Body.Span.Slice(facts.ModelStart, facts.ModelLength).ToArray() };
    }
}
