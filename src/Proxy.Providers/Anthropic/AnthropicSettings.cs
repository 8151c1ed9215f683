using System.Globalization;
using Proxy.Config;

namespace Proxy.Providers.Anthropic;

/// <summary>The fields only the <c>anthropic</c> type has, read from the provider's config.</summary>
public sealed record AnthropicSettings
{
    public const string DefaultVersion = "2023-06-01";
    public const int DefaultMaxTokensValue = 4096;

    public static readonly IReadOnlyCollection<string> Fields = ["anthropic_version", "default_max_tokens"];

    /// <summary>Sent as the <c>anthropic-version</c> header, unless a Messages client passing through sent its own.</summary>
    public string Version { get; init; } = DefaultVersion;

    /// <summary><c>max_tokens</c> when the client sends neither max_tokens nor max_completion_tokens.</summary>
    public int DefaultMaxTokens { get; init; } = DefaultMaxTokensValue;

    public static AnthropicSettings Read(ProviderSettings settings, Action<string, string>? error)
    {
        var result = new AnthropicSettings();
        if (settings.Extra.TryGetValue("anthropic_version", out var version))
        {
            if (string.IsNullOrWhiteSpace(version)) error?.Invoke("anthropic_version", "must not be empty (the default is " + DefaultVersion + ")");
            else result = result with { Version = version.Trim() };
        }
        if (settings.Extra.TryGetValue("default_max_tokens", out var max))
        {
            if (int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1_000_000)
                result = result with { DefaultMaxTokens = n };
            else error?.Invoke("default_max_tokens", $"'{max}' is not a whole number between 1 and 1000000");
        }
        return result;
    }
}
