using Proxy.Config;

namespace Proxy.Providers.Anthropic;

/// <summary>"anthropic": Claude through Anthropic's Messages API, passed through for Messages clients, translated for the others.</summary>
public sealed class AnthropicKind : IProviderKind
{
    public string Type => "anthropic";

    public Uri? DefaultBaseUrl { get; } = new("https://api.anthropic.com/v1");

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields => AnthropicSettings.Fields;

    public void Validate(ProviderSettings settings, Action<string, string> error) => AnthropicSettings.Read(settings, error);

    public ProviderAdapter CreateAdapter(ProviderSettings settings) =>
        new AnthropicAdapter(settings, UpstreamTransport.Create(settings), AnthropicSettings.Read(settings, null));
}
