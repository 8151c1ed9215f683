using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Anthropic errors (<c>{"type":"error","error":{"type","message"},"request_id"}</c>) in the OpenAI shape, keeping
/// the provider's message. 529 overloaded_error becomes 503: a standard status every client and load balancer
/// reads as "busy, try again" (OpenAI SDKs retry it), which 529 is not.
/// </summary>
public static class AnthropicErrors
{
    public static UpstreamFailure Classify(string provider, int status, ReadOnlySpan<byte> body)
    {
        var (type, message) = Read(body);
        return Classify(provider, status, type, message);
    }

    /// <summary>From the error's parts: a non-2xx answer's, or an error event's inside a stream.</summary>
    public static UpstreamFailure Classify(string provider, int status, string? type, string? message)
    {
        var detail = message ?? (type is null ? $"HTTP {status} with no error message" : type);
        if (type == "overloaded_error") status = 529;
        return status switch
        {
            // The client's key is fine; the gateway's provider credential is not (as for OpenAI upstreams).
            401 or 403 => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_auth_failed",
                $"Upstream '{provider}' rejected the gateway's credentials (HTTP {status}): {detail}", false),
            402 => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_billing_error",
                $"Upstream '{provider}' refused the request for a billing reason (HTTP 402): {detail}", false),
            400 or 422 => new UpstreamFailure(400, OpenAiError.InvalidRequest, null, detail, false),
            404 => new UpstreamFailure(404, OpenAiError.NotFound, "model_not_found", $"Upstream '{provider}': {detail}", false),
            413 => new UpstreamFailure(413, OpenAiError.InvalidRequest, "request_too_large", $"Upstream '{provider}': {detail}", false),
            429 => new UpstreamFailure(429, OpenAiError.RateLimit, "rate_limit_exceeded", $"Upstream '{provider}' is rate limiting: {detail}", true),
            529 => new UpstreamFailure(503, OpenAiError.Upstream, "upstream_overloaded", $"Upstream '{provider}' is overloaded (Anthropic 529): {detail}", true),
            504 => new UpstreamFailure(504, OpenAiError.Timeout, "upstream_timeout", $"Upstream '{provider}' timed out: {detail}", true),
            >= 300 and < 400 => new UpstreamFailure(502, OpenAiError.Upstream, "upstream_redirect",
                $"Upstream '{provider}' answered with a redirect (HTTP {status}); the gateway does not follow redirects: check its base_url", false),
            >= 500 => new UpstreamFailure(status, OpenAiError.Upstream, "upstream_error", $"Upstream '{provider}' failed (HTTP {status}): {detail}", true),
            _ => new UpstreamFailure(status, OpenAiError.InvalidRequest, null, $"Upstream '{provider}' (HTTP {status}): {detail}", status is 408 or 409),
        };
    }

    /// <summary>The HTTP status Anthropic documents for an error type, for errors that arrive inside a 200 stream.</summary>
    public static int StatusOf(string? type) => type switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };

    /// <summary>error.type and error.message of an Anthropic error body; nulls when it is not one.</summary>
    public static (string? Type, string? Message) Read(ReadOnlySpan<byte> body)
    {
        string? type = null, message = null;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (null, OpenAiError.FindMessage(body));
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (!isError || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isType = reader.ValueTextEquals("type"u8), isMessage = reader.ValueTextEquals("message"u8);
                    reader.Read();
                    if (isType && reader.TokenType == JsonTokenType.String) type = reader.GetString();
                    else if (isMessage && reader.TokenType == JsonTokenType.String) message = reader.GetString();
                    else reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // A proxy's HTML error page or a cut body: the status alone has to do.
        }
        return (type, message);
    }
}
