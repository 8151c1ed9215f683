using Proxy.Metrics;

namespace Proxy.Routing;

/// <summary>
/// Why one attempt failed, finer than <see cref="UpstreamErrors"/>: each timeout says which one expired. The reason
/// label of the retries and fallbacks counters and the <c>upstream_error</c> of the request log.
/// </summary>
public static class FailureReasons
{
    /// <summary>No connection or no answer: refused, reset before the response, DNS, TLS.</summary>
    public const string Unreachable = "unreachable";

    /// <summary>TCP (and proxy) connect did not finish within the connect timeout.</summary>
    public const string ConnectTimeout = "connect_timeout";

    /// <summary>No response headers within the first byte timeout.</summary>
    public const string FirstByteTimeout = "first_byte_timeout";

    /// <summary>Silence between reads (stream events, or parts of a plain answer) past the idle timeout.</summary>
    public const string IdleTimeout = "idle_timeout";

    /// <summary>One attempt at a target ran past that target's total timeout.</summary>
    public const string AttemptTimeout = "attempt_timeout";

    /// <summary>The request ran past its route's total timeout: never retried, the time is spent.</summary>
    public const string TotalTimeout = "total_timeout";

    public const string RateLimited = UpstreamErrors.RateLimited;
    public const string ServerError = UpstreamErrors.ServerError;
    public const string Auth = UpstreamErrors.Auth;
    public const string ClientError = UpstreamErrors.ClientError;
    public const string Redirect = UpstreamErrors.Redirect;
    public const string Incomplete = UpstreamErrors.Incomplete;
    public const string StreamError = UpstreamErrors.StreamError;
    public const string InvalidAnswer = UpstreamErrors.InvalidAnswer;

    /// <summary>The provider cannot express the request (the gateway refused it before calling): not an upstream failure.</summary>
    public const string Unsupported = "unsupported";

    /// <summary>Every target's breaker was open: no call was made.</summary>
    public const string CircuitOpen = "circuit_open";

    /// <summary>
    /// The gateway itself ran out of file descriptors (EMFILE/ENFILE) opening the connection: its own exhaustion, not
    /// the upstream's. Answered 503; not an upstream error, not charged to the target's breaker, not retried.
    /// </summary>
    public const string GatewayResources = "gateway_resources";

    /// <summary>Every value, in a fixed order: the label set, bounded.</summary>
    public static readonly string[] All =
    [
        Unreachable, ConnectTimeout, FirstByteTimeout, IdleTimeout, AttemptTimeout, TotalTimeout, RateLimited, ServerError,
        Auth, ClientError, Redirect, Incomplete, StreamError, InvalidAnswer, Unsupported, CircuitOpen, GatewayResources,
    ];

    public static int IndexOf(string reason) => Array.IndexOf(All, reason);

    /// <summary>The llm_gateway_upstream_errors_total class of a reason; null when no provider call failed.</summary>
    public static string? UpstreamClass(string reason) => reason switch
    {
        ConnectTimeout or FirstByteTimeout or IdleTimeout or AttemptTimeout or TotalTimeout => UpstreamErrors.Timeout,
        Unsupported or CircuitOpen or GatewayResources => null,
        _ => reason,
    };

    /// <summary>
    /// The upstream statuses worth another attempt, when the adapter also judges the answer retryable: 408 and 409 (as
    /// the OpenAI SDKs retry them), 429, 500, 502, 503, 504, and 520-599 (overload codes such as Anthropic's 529 and
    /// CDN origin errors). Never another 4xx (about the request or the gateway's credentials), nor 501 or 505.
    /// </summary>
    public static bool IsRetryableStatus(int status) => status is 408 or 409 or 429 or 500 or 502 or 503 or 504 or (>= 520 and <= 599);

    /// <summary>
    /// Whether the call says the target is unwell (its breaker counts a failure). A 4xx about the request itself says
    /// the target works; the gateway's own refusals say nothing about it.
    /// </summary>
    public static bool CountsAgainstTarget(string reason) => reason is not (ClientError or Unsupported or CircuitOpen or GatewayResources);

    /// <summary>The gateway's own failures: the target was never really asked, so its breaker and latency score learn nothing.</summary>
    public static bool IsGatewaysOwn(string reason) => reason is Unsupported or GatewayResources;
}
