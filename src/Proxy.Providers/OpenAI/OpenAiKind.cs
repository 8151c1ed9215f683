using Proxy.Config;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// "openai": OpenAI itself, and any server that speaks its API (vLLM, Ollama, Groq, Together, Mistral, LM Studio...)
/// by pointing base_url at it.
/// </summary>
public sealed class OpenAiKind : IProviderKind
{
    public string Type => "openai";

    public Uri? DefaultBaseUrl { get; } = new("https://api.openai.com/v1");

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields { get; } = [];

    public void Validate(ProviderSettings settings, Action<string, string> error)
    {
    }

    public ProviderAdapter CreateAdapter(ProviderSettings settings) => new OpenAiAdapter(settings, UpstreamTransport.Create(settings));
}
