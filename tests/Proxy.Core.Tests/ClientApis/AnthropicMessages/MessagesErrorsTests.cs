using System.Buffers;
using System.Text;
using Proxy.ClientApis;
using Proxy.ClientApis.AnthropicMessages;
using Proxy.Errors;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

public class MessagesErrorsTests
{
    private static readonly ClientApi Api = ClientApi.AnthropicMessages;

    [Theory]
    [InlineData(400, OpenAiError.InvalidRequest, "invalid_request_error")]
    [InlineData(401, OpenAiError.Authentication, "authentication_error")]
    [InlineData(402, OpenAiError.Upstream, "billing_error")]
    [InlineData(403, OpenAiError.Permission, "permission_error")]
    [InlineData(404, OpenAiError.NotFound, "not_found_error")]
    [InlineData(413, OpenAiError.InvalidRequest, "request_too_large")]
    [InlineData(429, OpenAiError.RateLimit, "rate_limit_error")]
    [InlineData(500, OpenAiError.Server, "api_error")]
    [InlineData(502, OpenAiError.Upstream, "api_error")]
    [InlineData(503, OpenAiError.Server, "overloaded_error")]
    [InlineData(504, OpenAiError.Timeout, "timeout_error")]
    [InlineData(529, OpenAiError.Upstream, "overloaded_error")]
    [InlineData(502, OpenAiError.Timeout, "timeout_error")]
    [InlineData(409, OpenAiError.InvalidRequest, "invalid_request_error")]
    public void WriteError_IsAnthropicsShape_TypedByStatus(int status, string gatewayType, string expected)
    {
        var output = new ArrayBufferWriter<byte>();
        Api.WriteError(output, status, "Something \"failed\"", gatewayType, "model", "some_code");
        Assert.Equal("{\"type\":\"error\",\"error\":{\"type\":\"" + expected + "\",\"message\":\"Something \\\"failed\\\"\"}}", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteErrorEvent_IsAnErrorEventWithBothLines()
    {
        var output = new ArrayBufferWriter<byte>();
        Api.WriteErrorEvent(output, 504, "no data for 30s (idle timeout)", OpenAiError.Timeout, "upstream_stream_broken");
        Assert.Equal("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"timeout_error\",\"message\":\"no data for 30s (idle timeout)\"}}\n\n",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""", true)]
    [InlineData("""{"error":{"type":"not_found_error","message":"model: x"},"type":"error"}""", true)]
    [InlineData("""{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}""", false)]
    [InlineData("""{"type":"error","error":"overloaded"}""", false)]
    [InlineData("""{"type":"message","error":{}}""", false)]
    [InlineData("""<html>502 Bad Gateway</html>""", false)]
    [InlineData("""{"type":"error","error":{"type":"api_error",""", false)]
    public void IsOwnErrorShape_WantsTypeErrorBesideAnErrorObject(string body, bool expected) =>
        Assert.Equal(expected, Api.IsOwnErrorShape(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void TheApi_IsNamedAndTyped()
    {
        Assert.Equal(ApiFormat.AnthropicMessages, Api.Format);
        Assert.Equal("messages", Api.Name);
        Assert.Equal(Proxy.Providers.Operation.ChatCompletions, Api.Operation);
        Assert.IsType<MessageStreamWriter>(Api.CreateStreamWriter(default, 0));
        Assert.IsType<MessageAnswerWriter>(Api.CreateAnswerWriter(default, 0));
    }
}
