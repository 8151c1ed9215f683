namespace Proxy.Metrics;

/// <summary>
/// Why a call to a provider failed, as one word: the class label of llm_gateway_upstream_errors_total and what
/// retries (issue 8) will decide on. Set by the relay where the failure is seen.
/// </summary>
public static class UpstreamErrors
{
    /// <summary>No connection or no answer: refused, reset, DNS, TLS.</summary>
    public const string Unreachable = "unreachable";

    /// <summary>No response headers within first_byte_timeout, or no data within idle_timeout.</summary>
    public const string Timeout = "timeout";

    public const string RateLimited = "rate_limited";

    /// <summary>5xx, and providers' own overload codes (Anthropic's 529).</summary>
    public const string ServerError = "server_error";

    /// <summary>401 or 403: the gateway's credentials for the provider are wrong.</summary>
    public const string Auth = "auth";

    /// <summary>Any other 4xx: usually the client's request, as the provider judged it.</summary>
    public const string ClientError = "client_error";

    public const string Redirect = "redirect";

    /// <summary>The answer or stream broke off before its end.</summary>
    public const string Incomplete = "incomplete";

    /// <summary>The provider sent an error event inside a stream.</summary>
    public const string StreamError = "stream_error";

    /// <summary>A 2xx answer the adapter could not translate (not the shape the provider documents).</summary>
    public const string InvalidAnswer = "invalid_answer";

    internal static readonly string[] All = [Unreachable, Timeout, RateLimited, ServerError, Auth, ClientError, Redirect, Incomplete, StreamError, InvalidAnswer];

    public static string ForStatus(int status) => status switch
    {
        429 => RateLimited,
        401 or 403 => Auth,
        >= 500 => ServerError,
        >= 400 => ClientError,
        _ => Redirect,
    };

    internal static int IndexOf(string kind) => Array.IndexOf(All, kind);
}
