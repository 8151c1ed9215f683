using Proxy.Providers.Anthropic;

namespace Proxy.Providers.Tests.Anthropic;

public class AnthropicErrorTests
{
    private static string Body(string type, string message) => $$"""{"type":"error","error":{"type":"{{type}}","message":"{{message}}"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""";

    [Theory]
    [InlineData(400, "invalid_request_error", "messages: roles must alternate", 400, "invalid_request_error", null, false)]
    [InlineData(401, "authentication_error", "invalid x-api-key", 502, "upstream_error", "upstream_auth_failed", false)]
    [InlineData(403, "permission_error", "no access to model", 502, "upstream_error", "upstream_auth_failed", false)]
    [InlineData(402, "billing_error", "credit balance too low", 502, "upstream_error", "upstream_billing_error", false)]
    [InlineData(404, "not_found_error", "model: claude-9", 404, "not_found_error", "model_not_found", false)]
    [InlineData(413, "request_too_large", "Request exceeds the maximum size", 413, "invalid_request_error", "request_too_large", false)]
    [InlineData(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", 429, "rate_limit_error", "rate_limit_exceeded", true)]
    [InlineData(500, "api_error", "Internal server error", 500, "upstream_error", "upstream_error", true)]
    [InlineData(504, "timeout_error", "Request timed out", 504, "timeout_error", "upstream_timeout", true)]
    [InlineData(529, "overloaded_error", "Overloaded", 503, "upstream_error", "upstream_overloaded", true)]
    public void Error_AnthropicStatusAndType_BecomeTheOpenAiShape(int status, string type, string message, int clientStatus, string clientType, string? code, bool retryable)
    {
        var failure = AnthropicErrors.Classify("anthropic", status, System.Text.Encoding.UTF8.GetBytes(Body(type, message)));

        Assert.Equal(clientStatus, failure.Status);
        Assert.Equal(clientType, failure.Type);
        Assert.Equal(code, failure.Code);
        Assert.Equal(retryable, failure.Retryable);
        Assert.Contains(message, failure.Message, StringComparison.Ordinal); // the provider's own words reach the client
    }

    [Fact]
    public void Error_NotJson_StillClassifiedByStatus()
    {
        var failure = AnthropicErrors.Classify("anthropic", 502, "<html>Bad Gateway</html>"u8);

        Assert.Equal(502, failure.Status);
        Assert.True(failure.Retryable);
        Assert.Contains("HTTP 502", failure.Message, StringComparison.Ordinal);
    }
}
