using Microsoft.AspNetCore.Http;
using Proxy.Answers;
using Proxy.ClientApis;
using Proxy.Config;
using Proxy.Errors;
using Proxy.Ingress;
using Proxy.Streaming;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// OpenAI-compatible upstreams. For clients that speak OpenAI's chat, embeddings or (where the upstream has it) Responses
/// API, the client's bytes go up unchanged except for the model name (when the route renames it) and the chat stream's
/// usage request, and answers come back byte for byte. Other clients' requests arrive as the canonical chat request and
/// the answers are decoded into neutral events (<see cref="OpenAiChatStreamDecoder"/>, <see cref="OpenAiChatAnswerDecoder"/>).
/// </summary>
public class OpenAiAdapter : ProviderAdapter
{
    private readonly Uri _chatUrl;
    private readonly Uri _embeddingsUrl;
    private readonly Uri _responsesUrl;
    private readonly string _responsesRoot;
    private readonly string? _authorization;
    private readonly bool _speaksResponses;

    public OpenAiAdapter(ProviderSettings settings, HttpMessageInvoker invoker) : base(settings, invoker)
    {
        var baseUrl = settings.BaseUrl ?? throw new ArgumentException("base_url is required", nameof(settings));
        _chatUrl = new Uri(baseUrl + "/chat/completions");
        _embeddingsUrl = new Uri(baseUrl + "/embeddings");
        _responsesRoot = baseUrl + "/responses";
        _responsesUrl = new Uri(_responsesRoot);
        _speaksResponses = OpenAiKind.ReadResponsesApi(settings, null);
        _authorization = string.IsNullOrEmpty(settings.ApiKey) ? null : "Bearer " + settings.ApiKey;
    }

    public override bool Speaks(ApiFormat format) =>
        format is ApiFormat.OpenAiChat or ApiFormat.OpenAiEmbeddings || (format == ApiFormat.OpenAiResponses && SpeaksResponsesApi);

    /// <summary>Whether the upstream has OpenAI's Responses API (<c>POST /responses</c>): OpenAI itself, or where configured.</summary>
    protected virtual bool SpeaksResponsesApi => _speaksResponses;

    /// <summary>Whether this call is a Responses API request going up as the client sent it.</summary>
    protected bool IsResponsesPassthrough(in UpstreamCall call) => call.Api.Format == ApiFormat.OpenAiResponses && PassesThrough(call);

    public override StreamDecoder CreateStreamDecoder(in UpstreamCall call) => new OpenAiChatStreamDecoder(Settings.Name);

    public override void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, AnswerWriter writer) =>
        OpenAiChatAnswerDecoder.Decode(upstreamBody, writer);

    public override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        var target = call.Target;
        // A Responses stream always ends with response.completed and its usage: only chat streams need to ask for it.
        var edits = BodyEdits.Plan(call.Facts, target.SameNameUpstream ? null : target.UpstreamModelJson, requestStreamUsage: !IsResponsesPassthrough(call));
        var request = new HttpRequestMessage(HttpMethod.Post, OperationUrl(call))
        {
            Content = new SplicedContent(call.Body, edits),
        };
        UpstreamTransport.SetVersion(request, Settings.BaseUrl!);
        var headers = request.Headers;
        AddAuthentication(headers);
        foreach (var (name, value) in Settings.Headers) headers.TryAddWithoutValidation(name, value);
        if (call.Facts.Stream) headers.TryAddWithoutValidation("Accept", "text/event-stream");
        return request;
    }

    /// <summary>Where the call goes; OpenAI-shaped hosts with other URL layouts (Azure deployments) override it.</summary>
    protected virtual Uri OperationUrl(in UpstreamCall call) =>
        IsResponsesPassthrough(call) ? _responsesUrl : call.Operation == Operation.Embeddings ? _embeddingsUrl : _chatUrl;

    /// <summary>Where the upstream keeps its responses (<c>GET/DELETE {base_url}/responses/{id}</c>, <c>.../input_items</c>), when it speaks the Responses API.</summary>
    public override HttpRequestMessage? BuildStoredResponseRequest(HttpMethod method, string responseId, string suffix, QueryString query)
    {
        if (!SpeaksResponsesApi) return null;
        var request = new HttpRequestMessage(method, StoredResponseUrl("/" + Uri.EscapeDataString(responseId) + suffix, query));
        UpstreamTransport.SetVersion(request, Settings.BaseUrl!);
        AddAuthentication(request.Headers);
        foreach (var (name, value) in Settings.Headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    /// <summary>The URL of a stored response's <paramref name="path"/> (<c>/{id}</c>, <c>/{id}/input_items</c>) under the Responses endpoint.</summary>
    protected virtual Uri StoredResponseUrl(string path, QueryString query) => new(_responsesRoot + path + query.ToUriComponent());

    /// <summary>The credential header; <c>Authorization: Bearer api_key</c> unless a host wants another.</summary>
    protected virtual void AddAuthentication(System.Net.Http.Headers.HttpRequestHeaders headers)
    {
        if (_authorization is not null) headers.TryAddWithoutValidation("Authorization", _authorization);
    }

    protected override StreamTranscoder CreatePassthroughTranscoder(in UpstreamCall call) =>
        IsResponsesPassthrough(call) ? OpenAiResponsesSseTranscoder.For(call.Api) : OpenAiSseTranscoder.For(call.Facts.IncludeUsage);

    /// <summary>A chat completion's or a Responses API response's top-level usage (both shapes are read).</summary>
    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage) => OpenAiUsage.Read(upstreamBody, ref usage);

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) => Classify(Settings.Name, status, body);

    /// <summary>Shared by every OpenAI-shaped upstream (OpenAI, Azure OpenAI, compatible servers).</summary>
    public static UpstreamFailure Classify(string provider, int status, ReadOnlySpan<byte> body)
    {
        var detail = OpenAiError.FindMessage(body) ?? $"HTTP {status} with no error message";
        bool retryable = status is 408 or 409 or 429 or 500 or 502 or 503 or 504 or 529;
        return status switch
        {
            // The client's key is fine; the gateway's provider credential is not. Saying 401 would send the client hunting for the wrong key.
            401 or 403 => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_auth_failed",
                $"Upstream '{provider}' rejected the gateway's credentials (HTTP {status}): {detail}", false),
            400 or 422 => new UpstreamFailure(status, OpenAiError.InvalidRequest, null, detail, false),
            404 => new UpstreamFailure(404, OpenAiError.NotFound, "model_not_found", $"Upstream '{provider}': {detail}", false),
            429 => new UpstreamFailure(429, OpenAiError.RateLimit, "rate_limit_exceeded", $"Upstream '{provider}' is rate limiting: {detail}", true),
            // A redirect means base_url is wrong (http vs https, a moved host); the client can do nothing about it.
            >= 300 and < 400 => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_redirect",
                $"Upstream '{provider}' answered with a redirect (HTTP {status}); the gateway does not follow redirects: check its base_url", false),
            >= 500 => new UpstreamFailure(status, OpenAiError.Upstream, "upstream_error", $"Upstream '{provider}' failed (HTTP {status}): {detail}", true),
            _ => new UpstreamFailure(status, OpenAiError.InvalidRequest, null, $"Upstream '{provider}' (HTTP {status}): {detail}", retryable),
        };
    }
}
