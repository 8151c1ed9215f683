using Proxy.Config;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// "openai": OpenAI itself, and any server that speaks its API (vLLM, Ollama, Groq, Together, Mistral, LM Studio...)
/// by pointing base_url at it.
/// </summary>
public sealed class OpenAiKind : IProviderKind
{
    /// <summary>Whether the upstream also serves OpenAI's Responses API; see <see cref="ReadResponsesApi"/>.</summary>
    public const string ResponsesApi = "responses_api";

    public string Type => "openai";

    public Uri? DefaultBaseUrl { get; } = new("https://api.openai.com/v1");

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields { get; } = [ResponsesApi];

    public void Validate(ProviderSettings settings, Action<string, string> error) => ReadResponsesApi(settings, error);

    public ProviderAdapter CreateAdapter(ProviderSettings settings) => new OpenAiAdapter(settings, UpstreamTransport.Create(settings));

    /// <summary>
    /// responses_api: true or false. OpenAI's own API has the Responses API, so clients that speak it pass through; a
    /// compatible server may lack it (or serve it partly), so there the default is false and those clients' requests go
    /// up as chat completions, translated. An operator whose server has it says so.
    /// </summary>
    public static bool ReadResponsesApi(ProviderSettings settings, Action<string, string>? error)
    {
        if (!settings.Extra.TryGetValue(ResponsesApi, out var value))
            return string.Equals(settings.BaseUrl?.Host, "api.openai.com", StringComparison.OrdinalIgnoreCase);
        if (value is "true" or "false") return value == "true";
        error?.Invoke(ResponsesApi, $"'{value}' is not true or false");
        return false;
    }
}
