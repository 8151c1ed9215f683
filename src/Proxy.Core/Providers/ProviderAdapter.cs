using System.Buffers;
using Microsoft.AspNetCore.Http;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Routing;

namespace Proxy.Providers;

/// <summary>What the client asked for.</summary>
public enum Operation
{
    ChatCompletions,
    Embeddings,
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
    /// True when the upstream already answers in the OpenAI shape, so a plain answer goes to the client
    /// byte for byte and only its usage is read.
    /// </summary>
    public abstract bool PassesThrough { get; }

    public abstract HttpRequestMessage BuildRequest(in UpstreamCall call);

    /// <summary>A transcoder for one streamed answer (it may keep per-stream state).</summary>
    public abstract StreamTranscoder CreateStreamTranscoder(in UpstreamCall call);

    /// <summary>Translates a plain successful answer to the OpenAI shape; only called when <see cref="PassesThrough"/> is false.</summary>
    public virtual void TranscodeResponse(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, IBufferWriter<byte> output, ref Usage usage) =>
        throw new NotSupportedException($"{GetType().Name} passes answers through");

    /// <summary>Reads the usage of a plain answer.</summary>
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

/// <summary>Tokens an answer used, as the provider reported them.</summary>
public struct Usage
{
    public long PromptTokens;
    public long CompletionTokens;
    public long CachedTokens;
    public bool Reported;
}

/// <summary>How an upstream failure is answered and whether it is worth retrying elsewhere.</summary>
public readonly record struct UpstreamFailure(int Status, string Type, string? Code, string Message, bool Retryable);
