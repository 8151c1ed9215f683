using Proxy.Accounting;
using Proxy.ClientApis;
using Proxy.Ingress;
using Proxy.Providers;
using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// A request in a client API other than OpenAI chat (Anthropic messages, OpenAI responses), written once as the
/// canonical OpenAI chat request for the targets whose provider does not speak the client's API; targets that do get
/// the client's own bytes. Made only for such requests, on the first attempt that needs it.
/// </summary>
internal sealed class CanonicalRequest : IDisposable
{
    private readonly PooledBuffer _body;
    private readonly RequestFacts _facts;

    /// <summary>Why the request cannot be written as a chat request (the client's to fix); null when it was written.</summary>
    public CallRejectedException? Refusal { get; }

    public CanonicalRequest(ClientApi api, ReadOnlySpan<byte> clientBody, Microsoft.AspNetCore.Http.IHeaderDictionary? headers)
    {
        _body = new PooledBuffer(clientBody.Length + 512);
        try
        {
            if (headers is not null && api.RefuseTranslation(headers) is { } refusal) throw refusal;
            api.WriteChatRequest(clientBody, _body);
            // The writer's own output: a peek failure here is the gateway's bug, said as such rather than blamed on the client.
            if (RequestPeeker.TryPeek(_body.Span, out _facts) is { } error)
                throw new InvalidOperationException($"the {api.Name} request was written as an invalid chat request: {error.Message}");
        }
        catch (CallRejectedException e)
        {
            Refusal = e;
        }
    }

    /// <summary>Points the call at the chat request (unless it was refused: then <see cref="Refuse"/> answers the attempt).</summary>
    public void Apply(ref UpstreamCall call)
    {
        if (Refusal is not null) return;
        call = new UpstreamCall(call.Operation, _body.Memory, _facts, call.Target, call.RequestId)
        {
            ClientHeaders = call.ClientHeaders, Api = call.Api, Created = call.Created,
        };
    }

    /// <summary>The attempt fails as a request the provider cannot take, before anything is sent, as a refusing adapter's does.</summary>
    public static void Refuse(CallOutcome outcome, CallRejectedException refusal)
    {
        outcome.Fail(new AttemptFailure
        {
            Status = refusal.Failure.Status, Type = refusal.Failure.Type, Code = refusal.Failure.Code, Param = refusal.Param,
            Message = refusal.Failure.Message, Reason = FailureReasons.Unsupported,
        });
        outcome.UpstreamError = null;
    }

    public void Dispose() => _body.Dispose();
}
