using System.Net;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Providers.Bedrock.Credentials;

namespace Proxy.Providers.Bedrock;

/// <summary>
/// The outermost step of the bedrock transport, for the one failure found while sending before anything reaches AWS:
/// credentials that could not be had (STS or the container endpoint down, a web identity token file missing). The
/// signer fetches them asynchronously, after BuildRequest, so the failure comes back as an answer in Bedrock's own
/// error shape ({"message"} with x-amzn-ErrorType) that <see cref="BedrockErrors"/> maps to 502 upstream_auth_failed
/// like AWS's own credential errors; it then takes the relay's ordinary error path (logged, counted by status,
/// retryable), as a Google token failure does in <see cref="Google.GoogleAuthHandler"/>. Thrown instead, it would
/// reach the relay as a send failure and be reported as "upstream unreachable".
/// </summary>
internal sealed class BedrockHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
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
