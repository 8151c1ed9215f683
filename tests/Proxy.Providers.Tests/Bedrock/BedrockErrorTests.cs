using System.Net;
using System.Text;
using Proxy.Errors;
using Proxy.Providers.Bedrock;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>Bedrock's HTTP errors ({"message"} + x-amzn-ErrorType) in the OpenAI shape, with retryability.</summary>
public class BedrockErrorTests
{
    [Theory]
    [InlineData(429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", 429, OpenAiError.RateLimit, "rate_limit_exceeded", true)]
    [InlineData(503, "ServiceUnavailableException", 503, OpenAiError.Upstream, "upstream_unavailable", true)]
    [InlineData(429, "ModelNotReadyException", 503, OpenAiError.Upstream, "model_not_ready", true)]
    [InlineData(408, "ModelTimeoutException", 504, OpenAiError.Timeout, "upstream_timeout", true)]
    [InlineData(500, "InternalServerException", 500, OpenAiError.Upstream, "upstream_error", true)]
    [InlineData(400, "ValidationException", 400, OpenAiError.InvalidRequest, null, false)]
    [InlineData(403, "AccessDeniedException", 502, OpenAiError.Upstream, "upstream_auth_failed", false)]
    [InlineData(403, "UnrecognizedClientException", 502, OpenAiError.Upstream, "upstream_auth_failed", false)]
    [InlineData(403, "InvalidSignatureException", 502, OpenAiError.Upstream, "upstream_auth_failed", false)]
    [InlineData(404, "ResourceNotFoundException", 404, OpenAiError.NotFound, "model_not_found", false)]
    [InlineData(424, "ModelErrorException", 502, OpenAiError.Upstream, "model_error", false)]
    [InlineData(400, "ServiceQuotaExceededException", 429, OpenAiError.RateLimit, "quota_exceeded", false)]
    [InlineData(403, null, 502, OpenAiError.Upstream, "upstream_auth_failed", false)]
    [InlineData(429, null, 429, OpenAiError.RateLimit, "rate_limit_exceeded", true)]
    [InlineData(502, null, 502, OpenAiError.Upstream, "upstream_error", true)]
    public void HttpError_MapsToOpenAiShape(int status, string? errorType, int clientStatus, string type, string? code, bool retryable)
    {
        using var adapter = BedrockFixtures.Adapter();
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        if (errorType is not null) response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", errorType);
        var body = Encoding.UTF8.GetBytes("""{"message":"The detail from AWS."}""");

        var failure = adapter.ClassifyError(status, response.Headers, body);

        Assert.Equal((clientStatus, type, code, retryable), (failure.Status, failure.Type, failure.Code, failure.Retryable));
        Assert.Contains("The detail from AWS.", failure.Message, StringComparison.Ordinal);
        Assert.Contains("'bedrock'", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FrontEndAuthError_WithCapitalMessageAndTypeInBody_IsUnderstood()
    {
        using var adapter = BedrockFixtures.Adapter();
        using var response = new HttpResponseMessage(HttpStatusCode.Forbidden);
        var failure = adapter.ClassifyError(403, response.Headers,
            """{"__type":"com.amazon.coral.service#ExpiredTokenException","Message":"The security token included in the request is expired"}"""u8);
        Assert.Equal("upstream_auth_failed", failure.Code);
        Assert.Contains("(ExpiredTokenException)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("is expired", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonJsonErrorBody_FallsBackToTheStatus()
    {
        using var adapter = BedrockFixtures.Adapter();
        var failure = adapter.ClassifyError(503, "<html>Service Unavailable</html>"u8);
        Assert.Equal((503, true), (failure.Status, failure.Retryable));
    }
}
