using System.Net;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Providers.Bedrock.Credentials;

namespace Proxy.Providers.Bedrock;

/// <summary>
/// The outermost step of the bedrock transport. Two failures are the gateway's own, found before anything reaches
/// AWS: a request Converse cannot express, and credentials that could not be had. BuildRequest is synchronous and
/// ClassifyError only sees answers, so both come back as answers in Bedrock's own error shape
/// ({"message"} with x-amzn-ErrorType) that <see cref="BedrockErrors"/> maps like any other.
/// </summary>
internal sealed class BedrockHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request is RejectedRequest rejected) return Answer(request, HttpStatusCode.BadRequest, BedrockErrors.RequestRejected, rejected.Message);
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsCredentialsUnavailableException e)
        {
            return Answer(request, HttpStatusCode.BadGateway, BedrockErrors.CredentialsUnavailable, e.Message);
        }
    }

    private static HttpResponseMessage Answer(HttpRequestMessage request, HttpStatusCode status, string type, string message)
    {
        var body = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(body, JsonOutput.Options))
        {
            w.WriteStartObject();
            w.WriteString("message"u8, message);
            w.WriteEndObject();
        }
        var response = new HttpResponseMessage(status) { RequestMessage = request, Content = new ByteArrayContent(body.WrittenSpan.ToArray()) };
        response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", type);
        response.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return response;
    }
}
