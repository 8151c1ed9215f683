using Proxy.Config;
using Proxy.Credentials;

namespace Proxy.Providers.AzureOpenAI;

/// <summary>"azure-openai": an Azure OpenAI (or Azure AI Foundry) resource, by API key or Microsoft Entra ID.</summary>
public sealed class AzureOpenAiKind(TimeProvider time) : IProviderKind
{
    public AzureOpenAiKind() : this(TimeProvider.System)
    {
    }

    public string Type => "azure-openai";

    /// <summary>Each resource has its own endpoint (https://NAME.openai.azure.com): base_url is required.</summary>
    public Uri? DefaultBaseUrl => null;

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields => AzureOpenAiSettings.Fields;

    public void Validate(ProviderSettings settings, Action<string, string> error) => AzureOpenAiSettings.Read(settings, error);

    public ProviderAdapter CreateAdapter(ProviderSettings settings)
    {
        var azure = AzureOpenAiSettings.Read(settings, null);
        var pool = UpstreamTransport.CreateHandler(settings);
        if (azure.Auth == AzureAuth.ApiKey) return new AzureOpenAiAdapter(settings, new HttpMessageInvoker(pool, disposeHandler: true), azure);

        HttpMessageInvoker tokenClient;
        CachedTokenSource tokens;
        if (azure.Auth == AzureAuth.ManagedIdentity)
        {
            // The identity endpoint is link-local (or a local sidecar): never through a proxy.
            tokenClient = new HttpMessageInvoker(new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                UseCookies = false,
                ConnectTimeout = settings.ConnectTimeout,
            }, disposeHandler: true);
            tokens = new ManagedIdentityTokenSource(tokenClient, new ManagedIdentityOptions
            {
                Resource = azure.Resource,
                ClientId = azure.ClientId,
                Endpoint = azure.IdentityEndpoint,
                IdentityHeader = azure.IdentityHeader,
            }, time);
        }
        else
        {
            // Microsoft Entra ID is reached the way the resource is: the same http_proxy, TLS verified.
            tokenClient = new HttpMessageInvoker(UpstreamTransport.CreateHandler(settings), disposeHandler: true);
            tokens = new ClientSecretTokenSource(tokenClient, new ClientSecretOptions
            {
                TenantId = azure.TenantId!,
                ClientId = azure.ClientId!,
                ClientSecret = azure.ClientSecret!,
                Scope = azure.Scope,
                Authority = azure.Authority,
            }, time);
        }
        return new AzureOpenAiAdapter(settings, new HttpMessageInvoker(new EntraBearerHandler(tokens, tokenClient, pool), disposeHandler: true), azure);
    }
}
