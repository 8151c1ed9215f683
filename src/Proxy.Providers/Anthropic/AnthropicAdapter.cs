using System.Net.Http.Headers;
using Proxy.Config;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Anthropic's own Messages API (<c>POST {base_url}/messages</c>): the model in the body, auth as <c>x-api-key</c>,
/// <c>anthropic-version</c> as a header: the configured one, or the client's own when its request passes through (it
/// wrote the request for that version). The rest is <see cref="AnthropicMessagesAdapter"/>'s.
/// </summary>
public sealed class AnthropicAdapter : AnthropicMessagesAdapter
{
    private readonly Uri _messagesUrl;
    private readonly Uri _countTokensUrl;
    private readonly AnthropicSettings _anthropic;

    public AnthropicAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AnthropicSettings anthropic)
        : base(settings, invoker, AnthropicDialect.Api(anthropic.DefaultMaxTokens))
    {
        var baseUrl = settings.BaseUrl ?? throw new ArgumentException("base_url is required", nameof(settings));
        _messagesUrl = new Uri(baseUrl.ToString().TrimEnd('/') + "/messages");
        _countTokensUrl = new Uri(baseUrl.ToString().TrimEnd('/') + "/messages/count_tokens");
        _anthropic = anthropic;
    }

    protected override Uri MessagesUrl(in UpstreamCall call) => CountsTokens(call) ? _countTokensUrl : _messagesUrl;

    protected override void AddHostHeaders(HttpRequestHeaders headers, in UpstreamCall call)
    {
        if (!string.IsNullOrEmpty(Settings.ApiKey)) headers.TryAddWithoutValidation("x-api-key", Settings.ApiKey);
        headers.TryAddWithoutValidation("anthropic-version", ClientVersion(call) ?? _anthropic.Version);
    }

    /// <summary>The anthropic-version a passing-through client sent, if any.</summary>
    private string? ClientVersion(in UpstreamCall call)
    {
        if (!PassesThrough(call) || call.ClientHeaders is not { } client || !client.TryGetValue("anthropic-version", out var values)) return null;
        foreach (var value in values)
        {
            if (!string.IsNullOrWhiteSpace(value)) return value.Trim();
        }
        return null;
    }
}
