using Proxy.Errors;

namespace Proxy.Providers.Bedrock;

/// <summary>
/// Bedrock's error types (the x-amzn-ErrorType header of an HTTP error, the :exception-type header of a stream
/// exception) in OpenAI terms: the status the client gets, the error type and code, and whether another attempt
/// (or target) could succeed.
/// </summary>
public static class BedrockErrors
{
    /// <summary>The synthetic type <see cref="BedrockHandler"/> answers with when no AWS credentials could be had.</summary>
    public const string CredentialsUnavailable = "GatewayCredentialsUnavailable";

    public static UpstreamFailure Classify(string provider, int status, string? errorType, string? message)
    {
        var type = Normalize(errorType);
        var detail = string.IsNullOrEmpty(message) ? $"HTTP {status} with no error message" : message;
        var what = type is null ? $"Upstream '{provider}' (HTTP {status})" : $"Upstream '{provider}' ({type})";
        if (type == CredentialsUnavailable)
        {
            // Often passing (STS or the container endpoint briefly down), so worth another attempt.
            return new UpstreamFailure(502, OpenAiError.Upstream, "upstream_auth_failed",
                $"The gateway could not get AWS credentials for '{provider}': {detail}", true);
        }
        var kind = type?.ToUpperInvariant() switch
        {
            "THROTTLINGEXCEPTION" => Kind.Throttled,
            "SERVICEUNAVAILABLEEXCEPTION" => Kind.Unavailable,
            "MODELNOTREADYEXCEPTION" => Kind.NotReady,
            "MODELTIMEOUTEXCEPTION" => Kind.Timeout,
            "INTERNALSERVEREXCEPTION" => Kind.Internal,
            "VALIDATIONEXCEPTION" => Kind.Invalid,
            "SERVICEQUOTAEXCEEDEDEXCEPTION" => Kind.Quota,
            "RESOURCENOTFOUNDEXCEPTION" => Kind.NotFound,
            "MODELERROREXCEPTION" or "MODELSTREAMERROREXCEPTION" => Kind.ModelError,
            "ACCESSDENIEDEXCEPTION" or "UNRECOGNIZEDCLIENTEXCEPTION" or "INVALIDSIGNATUREEXCEPTION" or "INCOMPLETESIGNATUREEXCEPTION"
                or "MISSINGAUTHENTICATIONTOKENEXCEPTION" or "EXPIREDTOKENEXCEPTION" or "INVALIDCLIENTTOKENIDEXCEPTION" => Kind.Auth,
            _ => FromStatus(status),
        };
        return kind switch
        {
            Kind.Throttled => new(429, OpenAiError.RateLimit, "rate_limit_exceeded", $"{what} is rate limiting: {detail}", true),
            Kind.NotReady => new(503, OpenAiError.Upstream, "model_not_ready", $"{what}: {detail}", true),
            Kind.Unavailable => new(503, OpenAiError.Upstream, "upstream_unavailable", $"{what}: {detail}", true),
            Kind.Timeout => new(504, OpenAiError.Timeout, "upstream_timeout", $"{what}: {detail}", true),
            Kind.Internal => new(status >= 500 ? status : 500, OpenAiError.Upstream, "upstream_error", $"{what} failed: {detail}", true),
            Kind.Invalid => new(400, OpenAiError.InvalidRequest, null, $"{what}: {detail}", false),
            Kind.Quota => new(429, OpenAiError.RateLimit, "quota_exceeded", $"{what}: {detail}", false),
            Kind.NotFound => new(404, OpenAiError.NotFound, "model_not_found", $"{what}: {detail}", false),
            Kind.ModelError => new(502, OpenAiError.Upstream, "model_error", $"{what}: {detail}", false),
            // The client's key is fine; the gateway's AWS identity is not (as the openai adapter does for 401/403).
            Kind.Auth => new(502, OpenAiError.Upstream, "upstream_auth_failed", $"{what} rejected the gateway's AWS credentials: {detail}", false),
            _ => new(status is >= 400 and < 600 ? status : 502, OpenAiError.Upstream, "upstream_error", $"{what}: {detail}", status >= 500),
        };
    }

    /// <summary>"ValidationException:http://internal.amazon.com/coral/..." and "aws.protocols#ValidationException" to "ValidationException".</summary>
    public static string? Normalize(string? errorType)
    {
        if (string.IsNullOrWhiteSpace(errorType)) return null;
        var type = errorType.Trim();
        int colon = type.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0) type = type[..colon];
        int hash = type.LastIndexOf('#');
        return hash >= 0 ? type[(hash + 1)..] : type;
    }

    private static Kind FromStatus(int status) => status switch
    {
        400 => Kind.Invalid,
        401 or 403 => Kind.Auth,
        404 => Kind.NotFound,
        408 => Kind.Timeout,
        424 => Kind.ModelError,
        429 => Kind.Throttled,
        503 => Kind.Unavailable,
        >= 500 => Kind.Internal,
        _ => Kind.Other,
    };

    private enum Kind
    {
        Other,
        Throttled,
        Unavailable,
        NotReady,
        Timeout,
        Internal,
        Invalid,
        Quota,
        NotFound,
        ModelError,
        Auth,
    }
}
