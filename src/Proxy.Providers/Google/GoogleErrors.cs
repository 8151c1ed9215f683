using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Google;

/// <summary>
/// Google Cloud's error body (google.rpc.Status, the same for the Gemini API and every Vertex AI publisher's front end), <c>{"error":{"code","message","status","details":[{"reason"...}]}}</c> (streaming endpoints
/// sometimes wrap it in an array), in the OpenAI shape with Google's own message. By canonical status:
/// INVALID_ARGUMENT / FAILED_PRECONDITION / OUT_OF_RANGE → 400; UNAUTHENTICATED / PERMISSION_DENIED, and an API key
/// Google calls invalid (which it answers with 400) → 502 upstream_auth_failed, as the OpenAI adapter does for 401/403:
/// the client's key is fine, the gateway's credential is not; NOT_FOUND → 404; RESOURCE_EXHAUSTED → 429;
/// INTERNAL → 500 and UNAVAILABLE → 503; DEADLINE_EXCEEDED → 504. 429 and 5xx are retryable.
/// </summary>
public static class GoogleErrors
{
    /// <summary>The parts of a Google error object that decide its mapping.</summary>
    public readonly record struct GoogleError(int Code, string? Message, string? Status, string? Reason);

    public static UpstreamFailure Classify(string provider, int httpStatus, ReadOnlySpan<byte> body)
    {
        var error = Parse(body);
        return Classify(provider, httpStatus, error ?? new GoogleError(httpStatus, OpenAiError.FindMessage(body), null, null));
    }

    public static UpstreamFailure Classify(string provider, int httpStatus, GoogleError e)
    {
        var detail = string.IsNullOrEmpty(e.Message) ? $"HTTP {httpStatus} with no error message" : e.Message;
        var status = e.Status ?? StatusOf(httpStatus);
        if (e.Reason is { } reason && reason.StartsWith("API_KEY_", StringComparison.Ordinal)) status = "UNAUTHENTICATED";
        return status switch
        {
            "INVALID_ARGUMENT" or "FAILED_PRECONDITION" or "OUT_OF_RANGE" => new UpstreamFailure(400, OpenAiError.InvalidRequest, null, detail, false),
            "UNAUTHENTICATED" or "PERMISSION_DENIED" => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_auth_failed",
                $"Upstream '{provider}' rejected the gateway's credentials ({status}): {detail}", false),
            "NOT_FOUND" => new UpstreamFailure(404, OpenAiError.NotFound, "model_not_found", $"Upstream '{provider}': {detail}", false),
            "RESOURCE_EXHAUSTED" => new UpstreamFailure(429, OpenAiError.RateLimit, "rate_limit_exceeded", $"Upstream '{provider}' is rate limiting: {detail}", true),
            "DEADLINE_EXCEEDED" => new UpstreamFailure(504, OpenAiError.Timeout, "upstream_timeout", $"Upstream '{provider}' timed out: {detail}", true),
            "UNAVAILABLE" => new UpstreamFailure(503, OpenAiError.Upstream, "upstream_error", $"Upstream '{provider}' is unavailable: {detail}", true),
            "INTERNAL" or "UNKNOWN" or "DATA_LOSS" => new UpstreamFailure(500, OpenAiError.Upstream, "upstream_error", $"Upstream '{provider}' failed ({status}): {detail}", true),
            // A redirect means base_url is wrong; the client can do nothing about it.
            _ when httpStatus is >= 300 and < 400 => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_redirect",
                $"Upstream '{provider}' answered with a redirect (HTTP {httpStatus}); the gateway does not follow redirects: check its base_url", false),
            _ when httpStatus >= 500 => new UpstreamFailure(httpStatus, OpenAiError.Upstream, "upstream_error", $"Upstream '{provider}' failed (HTTP {httpStatus}): {detail}", true),
            _ => new UpstreamFailure(httpStatus is >= 400 and < 500 ? httpStatus : 502, httpStatus is >= 400 and < 500 ? OpenAiError.InvalidRequest : OpenAiError.Upstream,
                null, $"Upstream '{provider}' (HTTP {httpStatus}): {detail}", false),
        };
    }

    /// <summary>The canonical status Google pairs with an HTTP status, for bodies that do not say it.</summary>
    private static string? StatusOf(int http) => http switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => null,
    };

    /// <summary>Reads <c>{"error":{...}}</c> or <c>[{"error":{...}}]</c>; null when the body is neither.</summary>
    public static GoogleError? Parse(ReadOnlySpan<byte> body)
    {
        var r = new Utf8JsonReader(body);
        try
        {
            if (!r.Read()) return null;
            if (r.TokenType == JsonTokenType.StartArray && !r.Read()) return null;
            if (r.TokenType != JsonTokenType.StartObject) return null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                bool isError = r.ValueTextEquals("error"u8);
                r.Read();
                if (isError && r.TokenType == JsonTokenType.StartObject) return ReadError(ref r);
                r.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>Reads the error object the reader is on (its StartObject), leaving the reader on its EndObject.</summary>
    public static GoogleError ReadError(ref Utf8JsonReader r)
    {
        int code = 0;
        string? message = null, status = null, reason = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r;
            r.Read();
            if (name.ValueTextEquals("code"u8) && r.TokenType == JsonTokenType.Number) code = r.TryGetInt32(out var c) ? c : 0;
            else if (name.ValueTextEquals("message"u8) && r.TokenType == JsonTokenType.String) message = r.GetString();
            else if (name.ValueTextEquals("status"u8) && r.TokenType == JsonTokenType.String) status = r.GetString();
            else if (name.ValueTextEquals("details"u8) && r.TokenType == JsonTokenType.StartArray) reason = FindReason(ref r);
            else r.Skip();
        }
        return new GoogleError(code, message, status, reason);
    }

    /// <summary>The first google.rpc.ErrorInfo reason in <c>details</c> (API_KEY_INVALID and the like).</summary>
    private static string? FindReason(ref Utf8JsonReader r)
    {
        string? reason = null;
        int depth = r.CurrentDepth;
        while (r.Read() && r.CurrentDepth > depth)
        {
            if (reason is null && r.TokenType == JsonTokenType.PropertyName && r.CurrentDepth == depth + 2 && r.ValueTextEquals("reason"u8))
            {
                r.Read();
                if (r.TokenType == JsonTokenType.String) reason = r.GetString();
            }
        }
        return reason;
    }
}
