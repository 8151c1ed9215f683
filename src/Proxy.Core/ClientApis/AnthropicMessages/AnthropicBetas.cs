using Microsoft.Extensions.Primitives;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// What an <c>anthropic-beta</c> header means for a request translated to a provider that is not Claude's own API.
/// Anthropic-native targets get every beta as sent. A translated target cannot run Anthropic's server-side features
/// (its tools, files, MCP connector, skills), so a beta that turns one on is refused with a 400 naming it, rather than
/// answered without the feature. Betas that only tune what the translation carries anyway (caching, streaming grain,
/// output length, thinking, the client's identity) are dropped: the answer means the same without them. A beta this
/// list does not know is dropped too, so a new client (Claude Code adds betas often) is not broken by its name alone.
/// </summary>
internal static class AnthropicBetas
{
    /// <summary>Beta name prefixes (the part before the date) for server-side features a translated target does not have.</summary>
    private static readonly string[] ServerSide =
    [
        "computer-use", "code-execution", "files-api", "mcp-client", "web-fetch", "web-search", "skills", "container",
        "search-results", "memory",
    ];

    public static CallRejectedException? Refusal(StringValues header)
    {
        foreach (var value in header)
        {
            if (value is null) continue;
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var feature in ServerSide)
                {
                    if (!part.StartsWith(feature, StringComparison.OrdinalIgnoreCase)) continue;
                    return CallRejectedException.Unsupported(
                        $"The anthropic-beta '{part}' turns on an Anthropic server-side feature that this route's target cannot run: the target is not " +
                        "Claude's own API (anthropic, or Claude on vertex or bedrock), so the request is translated. Route it to such a target, or drop the beta.");
                }
            }
        }
        return null;
    }
}
