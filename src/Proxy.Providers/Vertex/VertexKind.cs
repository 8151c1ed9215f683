using Proxy.Config;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Gemini;
using Proxy.Providers.Google;

namespace Proxy.Providers.Vertex;

/// <summary>
/// "vertex": models on Google Cloud Vertex AI, one provider entry per project and region, authenticated with OAuth2
/// access tokens (a service-account key file or the metadata server; see <see cref="GoogleCredentials"/>).
/// <c>publisher</c> says whose models the entry serves and so which translation it uses: google (Gemini) or anthropic (Claude).
/// </summary>
public sealed class VertexKind : IProviderKind
{
    public const string Project = "project";
    public const string Region = "region";
    public const string Publisher = "publisher";

    /// <summary>Claude requires max_tokens; sent when the client gives none (publisher anthropic only, as for type anthropic).</summary>
    public const string DefaultMaxTokens = "default_max_tokens";

    /// <summary>Publishers this gateway can translate for. Adding one: a case here and in <see cref="CreateAdapter"/>.</summary>
    private static readonly string[] Publishers = ["google", "anthropic"];

    public string Type => "vertex";

    /// <summary>The global endpoint; a regional entry without base_url goes to its region's host (<see cref="VertexLocation"/>).</summary>
    public Uri? DefaultBaseUrl => VertexLocation.GlobalBaseUrl;

    public bool UsesNetwork => true;

    public IReadOnlyCollection<string> ExtraFields { get; } = [Project, Region, Publisher, DefaultMaxTokens, .. GoogleCredentials.Fields];

    public void Validate(ProviderSettings settings, Action<string, string> error)
    {
        foreach (var field in (ReadOnlySpan<string>)[Project, Region])
        {
            var value = settings.Extra.GetValueOrDefault(field);
            if (string.IsNullOrEmpty(value)) error(field, field == Project ? "required: the Google Cloud project id" : "required: a Vertex AI region (us-central1, europe-west4...) or global");
            else if (value.AsSpan().ContainsAny("/?#% ")) error(field, $"'{value}' is not a valid {field}");
        }
        var publisher = settings.Extra.GetValueOrDefault(Publisher);
        if (publisher is not null && !Publishers.Contains(publisher))
            error(Publisher, $"publisher '{publisher}' is not supported; one of: {string.Join(", ", Publishers)}");
        if (settings.Extra.ContainsKey(DefaultMaxTokens))
        {
            if (publisher == "anthropic") AnthropicSettings.Read(settings, error);
            else error(DefaultMaxTokens, "only used with publisher: anthropic");
        }
        if (!string.IsNullOrEmpty(settings.ApiKey))
            error("api_key", "not used by type 'vertex': it authenticates with OAuth2 tokens (credentials_file, or the metadata server without it)");
        GoogleCredentials.Validate(settings, error);
    }

    public ProviderAdapter CreateAdapter(ProviderSettings settings)
    {
        var location = new VertexLocation(settings.BaseUrl!, settings.Extra[Project], settings.Extra[Region]);
        var invoker = GoogleCredentials.CreateInvoker(settings, GoogleCredentials.CreateTokenSource(settings, TimeProvider.System));
        var publisher = settings.Extra.GetValueOrDefault(Publisher, "google");
        return publisher switch
        {
            "google" => new GeminiAdapter(settings, invoker, new VertexGeminiEndpoint(location)),
            "anthropic" => new AnthropicVertexAdapter(settings, invoker, location, AnthropicSettings.Read(settings, null).DefaultMaxTokens),
            _ => throw new InvalidOperationException($"publisher '{publisher}' passed validation but has no adapter"),
        };
    }
}
