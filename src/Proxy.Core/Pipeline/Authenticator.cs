using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Proxy.Config;
using Proxy.Keys;

namespace Proxy.Pipeline;

/// <summary>Finds the caller's virtual key: <c>Authorization: Bearer</c> (OpenAI clients) or <c>x-api-key</c> (Anthropic clients).</summary>
public static class Authenticator
{
    public enum Outcome
    {
        Ok,
        Missing,
        Invalid,
    }

    public static Outcome Authenticate(HttpRequest request, GatewayConfig config, out VirtualKey? key)
    {
        key = null;
        ReadOnlySpan<char> secret = default;
        var auth = request.Headers[HeaderNames.Authorization];
        if (auth.Count > 0)
        {
            var value = auth[0].AsSpan().Trim();
            if (value.Length > 7 && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) secret = value[7..].Trim();
        }
        else
        {
            var apiKey = request.Headers["x-api-key"];
            if (apiKey.Count > 0) secret = apiKey[0].AsSpan().Trim();
        }
        if (secret.IsEmpty) return Outcome.Missing;
        key = config.Keys.Find(secret);
        return key is null ? Outcome.Invalid : Outcome.Ok;
    }
}
