using System.Net.Http.Headers;
using Proxy.Config;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Anthropic's own Messages API (<c>POST {base_url}/messages</c>): the model in the body, auth as <c>x-api-key</c>,
/// <c>anthropic-version</c> from config as a header. The translation is <see cref="AnthropicMessagesAdapter"/>'s.
/// </summary>
public sealed class AnthropicAdapter : AnthropicMessagesAdapter
{
    private readonly Uri _messagesUrl;
    private readonly AnthropicSettings _anthropic;

    public AnthropicAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AnthropicSettings anthropic, TimeProvider time)
        : base(settings, invoker, AnthropicDialect.Api(anthropic.DefaultMaxTokens), time)
    {
        var baseUrl = settings.BaseUrl ?? throw new ArgumentException("base_url is required", nameof(settings));
        _messagesUrl = new Uri(baseUrl.ToString().TrimEnd('/') + "/messages");
        _anthropic = anthropic;
    }

    protected override Uri MessagesUrl(in UpstreamCall call) => _messagesUrl;

    protected override void AddHostHeaders(HttpRequestHeaders headers)
    {
        if (!string.IsNullOrEmpty(Settings.ApiKey)) headers.TryAddWithoutValidation("x-api-key", Settings.ApiKey);
        headers.TryAddWithoutValidation("anthropic-version", _anthropic.Version);
    }
}
