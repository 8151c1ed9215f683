using System.Globalization;
using Proxy.Config;

namespace Proxy.Providers.Mock;

/// <summary>The built-in mock's pacing and sizes, read from the provider's config fields.</summary>
public sealed record MockSettings
{
    public static readonly IReadOnlyCollection<string> Fields =
        ["latency", "time_to_first_token", "tokens_per_second", "completion_tokens", "embedding_dimensions"];

    /// <summary>Delay before the response headers.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Delay between the headers and the first token of a stream.</summary>
    public TimeSpan TimeToFirstToken { get; init; }

    /// <summary>Pacing of streamed tokens; 0 sends them as fast as the reader takes them.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Tokens in each answer, unless the request's max_tokens is lower.</summary>
    public int CompletionTokens { get; init; } = 16;

    public int EmbeddingDimensions { get; init; } = 8;

    public static MockSettings Read(ProviderSettings settings, Action<string, string>? error)
    {
        var result = new MockSettings();
        foreach (var (key, value) in settings.Extra)
        {
            switch (key)
            {
                case "latency" when Duration(key, value, error) is { } d: result = result with { Latency = d }; break;
                case "time_to_first_token" when Duration(key, value, error) is { } d: result = result with { TimeToFirstToken = d }; break;
                case "tokens_per_second" when Number(key, value, 0, 1_000_000, error) is { } n: result = result with { TokensPerSecond = n }; break;
                case "completion_tokens" when Number(key, value, 1, 100_000, error) is { } n: result = result with { CompletionTokens = (int)n }; break;
                case "embedding_dimensions" when Number(key, value, 1, 65_536, error) is { } n: result = result with { EmbeddingDimensions = (int)n }; break;
            }
        }
        return result;
    }

    private static TimeSpan? Duration(string key, string value, Action<string, string>? error)
    {
        if (ConfigValues.TryParseDuration(value, out var d)) return d;
        error?.Invoke(key, $"'{value}' is not a duration (write it like 250ms, 10s, 2m)");
        return null;
    }

    private static double? Number(string key, string value, double min, double max, Action<string, string>? error)
    {
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
        error?.Invoke(key, $"'{value}' is not a number between {min} and {max}");
        return null;
    }
}
