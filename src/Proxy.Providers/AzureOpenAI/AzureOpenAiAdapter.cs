using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Proxy.Config;
using Proxy.Providers.OpenAI;

namespace Proxy.Providers.AzureOpenAI;

/// <summary>
/// Azure OpenAI: the OpenAI adapter's byte-for-byte passthrough, usage reading and error classification, with Azure's
/// URLs and auth. Deployments style: <c>{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...</c>
/// (and <c>/embeddings</c>), where the deployment is the route's upstream model. v1 style (api_version v1 or preview):
/// <c>{endpoint}/openai/v1/chat/completions</c> with the model in the body. Auth: <c>api-key</c>, or a bearer token
/// that <see cref="EntraBearerHandler"/> adds in front of the connection pool.
/// </summary>
public sealed class AzureOpenAiAdapter : OpenAiAdapter
{
    private readonly AzureOpenAiSettings _azure;
    private readonly string _endpoint;
    private readonly ConcurrentDictionary<string, DeploymentUrls> _deployments = new(StringComparer.Ordinal);
    private readonly DeploymentUrls? _v1;

    public AzureOpenAiAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AzureOpenAiSettings azure) : base(settings, invoker)
    {
        _azure = azure;
        _endpoint = settings.BaseUrl!.ToString().TrimEnd('/');
        if (azure.UsesV1Api)
        {
            // GA v1 takes no api-version; the preview surface is selected with api-version=preview.
            var query = azure.ApiVersion == "preview" ? "?api-version=preview" : "";
            _v1 = new DeploymentUrls(new Uri(_endpoint + "/openai/v1/chat/completions" + query), new Uri(_endpoint + "/openai/v1/embeddings" + query));
        }
    }

    protected override Uri OperationUrl(in UpstreamCall call)
    {
        var urls = _v1 ?? _deployments.GetOrAdd(call.Target.UpstreamModel, static (deployment, self) => self.UrlsFor(deployment), this);
        return call.Operation == Operation.Embeddings ? urls.Embeddings : urls.Chat;
    }

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
