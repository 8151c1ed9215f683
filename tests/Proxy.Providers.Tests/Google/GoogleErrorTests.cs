using System.Text;
using Proxy.Providers.Google;

namespace Proxy.Providers.Tests.Google;

/// <summary>Google error bodies in, the OpenAI-shaped failure the client gets out.</summary>
public class GoogleErrorTests
{
    [Theory]
    [InlineData(400, "INVALID_ARGUMENT", 400, "invalid_request_error", null, false)]
    [InlineData(400, "FAILED_PRECONDITION", 400, "invalid_request_error", null, false)]
    [InlineData(401, "UNAUTHENTICATED", 502, "upstream_error", "upstream_auth_failed", false)]
    [InlineData(403, "PERMISSION_DENIED", 502, "upstream_error", "upstream_auth_failed", false)]
    [InlineData(404, "NOT_FOUND", 404, "not_found_error", "model_not_found", false)]
    [InlineData(429, "RESOURCE_EXHAUSTED", 429, "rate_limit_error", "rate_limit_exceeded", true)]
    [InlineData(500, "INTERNAL", 500, "upstream_error", "upstream_error", true)]
    [InlineData(503, "UNAVAILABLE", 503, "upstream_error", "upstream_error", true)]
    [InlineData(504, "DEADLINE_EXCEEDED", 504, "timeout_error", "upstream_timeout", true)]
    public void Error_GoogleStatus_IsMapped(int http, string status, int expectedStatus, string type, string? code, bool retryable)
    {
        var body = $$$"""{"error": {"code": {{{http}}}, "message": "Google says no (é).", "status": "{{{status}}}"}}""";

        var failure = GoogleErrors.Classify("gem", http, Encoding.UTF8.GetBytes(body));

        Assert.Equal(expectedStatus, failure.Status);
        Assert.Equal(type, failure.Type);
        Assert.Equal(code, failure.Code);
        Assert.Equal(retryable, failure.Retryable);
        Assert.Contains("Google says no (é).", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_InvalidApiKey_IsTheGatewaysCredentialNotTheClientsRequest()
    {
        // The Gemini API answers a bad key with 400 INVALID_ARGUMENT; only the ErrorInfo reason tells it apart.
        var body = """
            {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
              "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}
            """;

        var failure = GoogleErrors.Classify("gem", 400, Encoding.UTF8.GetBytes(body));

        Assert.Equal(502, failure.Status);
        Assert.Equal("upstream_auth_failed", failure.Code);
        Assert.Contains("API key not valid", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_ArrayWrapped_IsRead()
    {
        var body = """[{"error": {"code": 429, "message": "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute.", "status": "RESOURCE_EXHAUSTED"}}]""";

        var failure = GoogleErrors.Classify("vtx", 429, Encoding.UTF8.GetBytes(body));

        Assert.Equal(429, failure.Status);
        Assert.True(failure.Retryable);
        Assert.Contains("Quota exceeded", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(502, "<html>Bad Gateway</html>", 502, true)]
    [InlineData(503, "", 503, true)]
    [InlineData(404, "Not Found", 404, false)]
    [InlineData(302, "", 502, false)]
    public void Error_NotGoogleShaped_FallsBackOnTheHttpStatus(int http, string body, int expected, bool retryable)
    {
        var failure = GoogleErrors.Classify("gem", http, Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, failure.Status);
        Assert.Equal(retryable, failure.Retryable);
        Assert.Contains("gem", failure.Message, StringComparison.Ordinal);
    }
}
