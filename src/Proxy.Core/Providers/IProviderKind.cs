using Proxy.Config;

namespace Proxy.Providers;

/// <summary>
/// One provider type ("openai", "mock", later "anthropic", "bedrock"...): what it adds to the config
/// schema and how to build its adapter. Each lives in its own folder in Proxy.Providers.
/// </summary>
public interface IProviderKind
{
    string Type { get; }

    /// <summary>Used when the config gives no base_url; null means base_url is required.</summary>
    Uri? DefaultBaseUrl { get; }

    /// <summary>Whether the provider is reached over HTTP at all (the built-in mock is not).</summary>
    bool UsesNetwork { get; }

    /// <summary>Config fields beyond the common ones that this type accepts.</summary>
    IReadOnlyCollection<string> ExtraFields { get; }

    /// <summary>Checks the type-specific fields; reports (field, reason) for each mistake.</summary>
    void Validate(ProviderSettings settings, Action<string, string> error);

    ProviderAdapter CreateAdapter(ProviderSettings settings);
}
