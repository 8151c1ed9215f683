using System.Buffers;
using Microsoft.AspNetCore.Http;
using Proxy.Answers;
using Proxy.ClientApis;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Routing;

namespace Proxy.Providers;

/// <summary>What the client asked for.</summary>
public enum Operation
{
    ChatCompletions,
    Embeddings,

    /// <summary>Anthropic's token counting (<c>POST /v1/messages/count_tokens</c>): only hosts of Claude's own API answer it.</summary>
    CountTokens,
}

/// <summary>One call to one target: the client's original bytes and the facts the ingress peeked from them.</summary>
public readonly struct UpstreamCall(Operation operation, ReadOnlyMemory<byte> body, RequestFacts facts, Target target, string requestId)
{
    public Operation Operation { get; } = operation;
    public ReadOnlyMemory<byte> Body { get; } = body;
    public RequestFacts Facts { get; } = facts;
    public Target Target { get; } = target;
    public string RequestId { get; } = requestId;

    /// <summary>
    /// The client's request headers, for the few adapters that pass one on (Anthropic's <c>anthropic-beta</c>).
    /// Null outside a real request (tests, benchmarks). Adapters must pick named headers, never copy them all:
    /// the client's Authorization carries the gateway key.
    /// </summary>
    public IHeaderDictionary? ClientHeaders { get; init; }

    /// <summary>
    /// What the client speaks (its writers and error shape). When the target's provider speaks it too
    /// (<see cref="ProviderAdapter.Speaks"/>), <see cref="Body"/> is the client's own request; otherwise it is the
    /// canonical OpenAI chat request the client API wrote (<see cref="ClientApi.WriteChatRequest"/>).
    /// Defaults to the OpenAI API of <see cref="Operation"/>.
    /// </summary>
    public ClientApi Api
    {
        get => _api ?? (Operation == Operation.Embeddings ? ClientApi.OpenAiEmbeddings : ClientApi.OpenAiChat);
        init => _api = value;
    }

    private readonly ClientApi? _api;

    /// <summary>Unix seconds the answer is dated (OpenAI's <c>created</c>); 0 means now.</summary>
    public long Created
    {
        get => _created != 0 ? _created : DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        init => _created = value;
    }

    private readonly long _created;

    /// <summary>Whether the target's provider speaks the client's API, so requests and answers pass through.</summary>
    public bool PassesThrough => Target.Provider.Adapter.PassesThrough(this);
}

/// <summary>
/// The seam every provider sits behind: build the upstream request (URL, auth, body), map the answer and
/// each stream event back to the OpenAI shape, extract usage, and classify failures.
/// One instance per configured provider, shared by all requests: it must be thread-safe and stateless per call.
/// </summary>
public abstract class ProviderAdapter(ProviderSettings settings, HttpMessageInvoker invoker) : IDisposable
{
    public ProviderSettings Settings { get; } = settings;

    /// <summary>The provider's own connection pool (or the in-process mock).</summary>
    public HttpMessageInvoker Invoker { get; } = invoker;

    /// <summary>
    /// Whether the upstream speaks this client API natively. Then the client's request goes up as it is (only the
    /// model spliced) and the answer comes back byte for byte, its usage read on the way (<see cref="ReadUsage"/>,
    /// <see cref="CreatePassthroughTranscoder"/>). Otherwise the request arrives as the canonical OpenAI chat request
    /// and the answer is decoded into neutral events (<see cref="CreateStreamDecoder"/>, <see cref="DecodeAnswer"/>)
    /// that the client API's writer turns into the client's format.
    /// </summary>
    public abstract bool Speaks(ApiFormat format);

    public abstract HttpRequestMessage BuildRequest(in UpstreamCall call);

    /// <summary>
    /// Whether this call goes up in the client's own API (<see cref="Speaks"/> it, and nothing only the gateway holds needs
    /// translating). Adapters whose targets differ (Bedrock hosts Claude, which speaks Messages, and models that do not)
    /// narrow it per call; every pipeline decision (request body, stream transcoder, plain answer, error body) asks this.
    /// </summary>
    public virtual bool PassesThrough(in UpstreamCall call) => !call.Api.NeedsTranslation && Speaks(call.Api.Format);

    /// <summary>The relay's transcoder for one streamed answer: the provider's bytes as they are, or decoded and rewritten for the client.</summary>
    public virtual StreamTranscoder CreateStreamTranscoder(in UpstreamCall call) =>
        PassesThrough(call) ? CreatePassthroughTranscoder(call) : new DecodingTranscoder(CreateStreamDecoder(call), call.Api.CreateStreamWriter(call, call.Created));

    /// <summary>Passes a stream in the client's own API through, reading its usage (only for the APIs <see cref="Speaks"/> names).</summary>
    protected virtual StreamTranscoder CreatePassthroughTranscoder(in UpstreamCall call) =>
        throw new NotSupportedException($"{GetType().Name} passes no stream through");

    /// <summary>A decoder for one streamed answer in the provider's format (it may keep per-stream state).</summary>
    public abstract StreamDecoder CreateStreamDecoder(in UpstreamCall call);

    /// <summary>Decodes a whole successful answer in the provider's format into neutral events, ending with End.</summary>
    public abstract void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, AnswerWriter writer);

    /// <summary>
    /// Writes a plain successful answer the provider gave in another API than the client's, in the client's. By default
    /// through <see cref="DecodeAnswer"/> and the client API's writer; adapters with operations outside the contract
    /// (embeddings) translate those themselves. A refusal in a 2xx answer throws <see cref="CallRejectedException"/>.
    /// </summary>
    public virtual void TranscodeResponse(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, IBufferWriter<byte> output, ref Usage usage)
    {
        var writer = call.Api.CreateAnswerWriter(call, call.Created);
        writer.Bind(output);
        DecodeAnswer(upstreamBody, call, writer);
        usage = writer.Usage;
        if (writer.Failure is { } failure) throw new CallRejectedException(failure);
        if (!writer.Completed) throw new InvalidUpstreamAnswerException("the answer ended before it was complete");
    }

    /// <summary>
    /// A request for a response this provider answered and keeps (OpenAI's Responses API): <paramref name="method"/> on
    /// the response <paramref name="responseId"/> plus <paramref name="suffix"/> ("" or "/input_items"), with the
    /// client's query, credentials as for a call. Null when the provider keeps no responses (the default).
    /// </summary>
    public virtual HttpRequestMessage? BuildStoredResponseRequest(HttpMethod method, string responseId, string suffix, QueryString query) => null;

    /// <summary>Reads the usage of a plain answer in the client's own API (passthrough).</summary>
    public abstract void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage);

    /// <summary>Maps a non-2xx upstream answer to what the client gets.</summary>
    public abstract UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body);

    /// <summary>
    /// The same, for providers that name the error in a header rather than the body (AWS: x-amzn-ErrorType).
    /// The relay calls this one; by default it ignores the headers.
    /// </summary>
    public virtual UpstreamFailure ClassifyError(int status, System.Net.Http.Headers.HttpResponseHeaders headers, ReadOnlySpan<byte> body) =>
        ClassifyError(status, body);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Invoker.Dispose();
    }
}

/// <summary>
/// Tokens an answer used, normalized once at the provider edge to OpenAI's convention: <see cref="PromptTokens"/> counts
/// all the input, cache reads and cache writes included (Anthropic's input_tokens excludes both).
/// </summary>
public struct Usage
{
    public long PromptTokens;
    public long CompletionTokens;
    /// <summary>Prompt tokens read from the provider's prompt cache (included in <see cref="PromptTokens"/>).</summary>
    public long CachedTokens;

    /// <summary>Prompt tokens written to the provider's prompt cache (included in <see cref="PromptTokens"/>; Anthropic prices them apart).</summary>
    public long CacheWriteTokens;

    /// <summary>Of the completion tokens, those the model spent reasoning (OpenAI's reasoning_tokens, Gemini's thoughts); 0 when not reported.</summary>
    public long ReasoningTokens;

    public bool Reported;
}

/// <summary>How an upstream failure is answered and whether it is worth retrying elsewhere.</summary>
public readonly record struct UpstreamFailure(int Status, string Type, string? Code, string Message, bool Retryable);
