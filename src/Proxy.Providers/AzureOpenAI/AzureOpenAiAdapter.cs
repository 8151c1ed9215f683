using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Proxy.Config;
using Proxy.Providers.OpenAI;

namespace Proxy.Providers.AzureOpenAI;

/// <summary>
/// Azure OpenAI: the OpenAI adapter's byte-for-byte passthrough, usage reading and error classification, with Azure's
/// URLs and auth. Deployments style: <c>{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...</c>
/// (and <c>/embeddings</c>), where the deployment is the route's upstream model. v1 style (api_version v1 or preview):
/// <c>{endpoint}/openai/v1/chat/completions</c> with the model in the body. Auth: <c>api-key</c>, or a bearer token
/// that <see cref="EntraBearerHandler"/> adds in front of the connection pool. The Responses API is served only by the
/// v1 API, <c>{endpoint}/openai/v1/responses</c> with the deployment as the body's model, whichever style chat uses.
/// </summary>
public sealed class AzureOpenAiAdapter : OpenAiAdapter
{
    private readonly AzureOpenAiSettings _azure;
    private readonly string _endpoint;
    private readonly ConcurrentDictionary<string, DeploymentUrls> _deployments = new(StringComparer.Ordinal);
    private readonly DeploymentUrls? _v1;
    private readonly Uri _responses;
    private readonly string _responsesRoot;

    public AzureOpenAiAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AzureOpenAiSettings azure) : base(settings, invoker)
    {
        _azure = azure;
        _endpoint = settings.BaseUrl!.ToString().TrimEnd('/');
        // GA v1 takes no api-version (a dated one is refused there); the preview surface is selected with api-version=preview.
        var v1Query = azure.ApiVersion == "preview" ? "?api-version=preview" : "";
        if (azure.UsesV1Api)
            _v1 = new DeploymentUrls(new Uri(_endpoint + "/openai/v1/chat/completions" + v1Query), new Uri(_endpoint + "/openai/v1/embeddings" + v1Query));
        _responsesRoot = _endpoint + "/openai/v1/responses";
        _responses = new Uri(_responsesRoot + v1Query);
    }

    /// <summary>Every Azure OpenAI resource serves the Responses API (in the regions and for the models Azure lists).</summary>
    protected override bool SpeaksResponsesApi => true;

    protected override Uri OperationUrl(in UpstreamCall call)
    {
        if (IsResponsesPassthrough(call)) return _responses;
        var urls = _v1 ?? _deployments.GetOrAdd(call.Target.UpstreamModel, static (deployment, self) => self.UrlsFor(deployment), this);
        return call.Operation == Operation.Embeddings ? urls.Embeddings : urls.Chat;
    }

    /// <summary>Stored responses live under the v1 Responses endpoint, with the preview surface's api-version where that is the one in use.</summary>
    protected override Uri StoredResponseUrl(string path, QueryString query) =>
        new(_responsesRoot + path + (_azure.ApiVersion == "preview" ? query.Add("api-version", "preview") : query).ToUriComponent());

    protected override void AddAuthentication(HttpRequestHeaders headers)
    {
        if (_azure.Auth == AzureAuth.ApiKey && !string.IsNullOrEmpty(Settings.ApiKey)) headers.TryAddWithoutValidation("api-key", Settings.ApiKey);
    }

    private DeploymentUrls UrlsFor(string deployment)
    {
        var root = _endpoint + "/openai/deployments/" + Uri.EscapeDataString(deployment);
        var query = "?api-version=" + Uri.EscapeDataString(_azure.ApiVersion);
        return new DeploymentUrls(new Uri(root + "/chat/completions" + query), new Uri(root + "/embeddings" + query));
    }

    private sealed record DeploymentUrls(Uri Chat, Uri Embeddings);
}
