using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Google;

/// <summary>
/// Puts a Google OAuth2 access token on every upstream request (<c>Authorization: Bearer</c>), in front of the provider's
/// connection pool, so BuildRequest stays synchronous and any Google-authenticated adapter (Gemini or Anthropic models on
/// Vertex AI) reuses it. When no token can be had, the answer is a Google-shaped 401 naming the reason, which the
/// adapter's error classifier turns into 502 upstream_auth_failed: the gateway's credential is at fault, not the client.
/// </summary>
public sealed class GoogleAuthHandler : DelegatingHandler
{
    private readonly AccessTokenSource _tokens;

    public GoogleAuthHandler(AccessTokenSource tokens, HttpMessageHandler inner) : base(inner) => _tokens = tokens;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string token;
        try
        {
            token = await _tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (GoogleAuthException e)
        {
            return NoToken(request, $"could not get an access token from {_tokens.Describe()}: {e.Message}");
        }
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized) _tokens.Invalidate(token);
        return response;
    }

    private static HttpResponseMessage NoToken(HttpRequestMessage request, string message)
    {
        var body = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(body, JsonOutput.Options))
        {
            w.WriteStartObject();
            w.WriteStartObject("error"u8);
            w.WriteNumber("code"u8, 401);
            w.WriteString("message"u8, message);
            w.WriteString("status"u8, "UNAUTHENTICATED");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return new HttpResponseMessage(HttpStatusCode.Unauthorized)
        {
            RequestMessage = request,
            Content = new ByteArrayContent(body.WrittenSpan.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = Encoding.UTF8.WebName } } },
        };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _tokens.Dispose();
        base.Dispose(disposing);
    }
}
