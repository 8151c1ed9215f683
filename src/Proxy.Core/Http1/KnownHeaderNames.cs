using System.Text;

namespace Proxy.Http1;

/// <summary>
/// The response header names upstreams send on every answer, as interned strings, so reading a head allocates only
/// for values and for names outside this list.
/// </summary>
internal static class KnownHeaderNames
{
    private static readonly string[] Names =
    [
        "Content-Type", "Content-Length", "Date", "Server", "Connection", "Transfer-Encoding", "Keep-Alive", "Cache-Control",
        "Content-Encoding", "Vary", "Retry-After", "x-request-id", "request-id", "openai-processing-ms", "openai-version",
        "openai-organization", "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens", "anthropic-ratelimit-requests-limit",
        "x-amzn-RequestId", "x-amzn-ErrorType", "x-ms-region", "apim-request-id", "Strict-Transport-Security", "X-Content-Type-Options",
        "CF-RAY", "CF-Cache-Status", "Set-Cookie", "Alt-Svc", "Access-Control-Allow-Origin", "X-Envoy-Upstream-Service-Time",
    ];

    private static readonly byte[][] Bytes = Array.ConvertAll(Names, Encoding.ASCII.GetBytes);

    public static string Get(ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < Bytes.Length; i++)
        {
            if (Bytes[i].Length == name.Length && Ascii.EqualsIgnoreCase(Bytes[i], name)) return Names[i];
        }
        return Encoding.ASCII.GetString(name);
    }
}
