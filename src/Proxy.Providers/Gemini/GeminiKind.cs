using Proxy.Config;

namespace Proxy.Providers.Gemini;

/// <summary>
/// "gemini": the Gemini API (Generative Language API, Google AI Studio keys) at
/// https://generativelanguage.googleapis.com/v1beta, authenticated with an API key.
/// </summary>
public sealed class GeminiKind : IProviderKind
{
    public string Type => "gemini";

    public Uri? DefaultBaseUrl { get; } = new("https://generativelanguage.googleapis.com/v1beta");

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields { get; } = [];

    public void Validate(ProviderSettings settings, Action<string, string> error)
    {
        if (string.IsNullOrEmpty(settings.ApiKey)) error("api_key", "required for type 'gemini' (a Gemini API key, e.g. ${GEMINI_API_KEY})");
    }

    public ProviderAdapter CreateAdapter(ProviderSettings settings) =>
        new GeminiAdapter(settings, UpstreamTransport.Create(settings), new GeminiApiEndpoint(settings.BaseUrl!, settings.ApiKey!));
}
