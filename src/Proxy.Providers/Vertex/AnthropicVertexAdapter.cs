using System.Net.Http.Headers;
using Proxy.Config;
using Proxy.Providers.Anthropic;
using Proxy.Providers.Google;

namespace Proxy.Providers.Vertex;

/// <summary>
/// Claude on Vertex AI (publisher anthropic): the Messages request without <c>model</c> and with
/// <c>anthropic_version: vertex-2023-10-16</c> (<see cref="AnthropicDialect.Vertex"/>; a Messages client's own
/// anthropic_version is kept), POSTed to the model's <c>:rawPredict</c>, or <c>:streamRawPredict</c> for a stream;
/// answers and streams are Anthropic's own. No version header: Vertex takes it in the body. The bearer token is put on
/// by the <see cref="GoogleAuthHandler"/> in front of the pool, so no credential is added here.
/// </summary>
public sealed class AnthropicVertexAdapter(ProviderSettings settings, HttpMessageInvoker invoker, VertexLocation location, int defaultMaxTokens)
    : AnthropicMessagesAdapter(settings, invoker, AnthropicDialect.Vertex(defaultMaxTokens))
{
    /// <summary>Vertex AI counts Claude's tokens at one endpoint for every model, named in the body (Google's "Count tokens for Claude models").</summary>
    protected override Uri MessagesUrl(in UpstreamCall call) =>
        CountsTokens(call) ? location.ModelUrl("anthropic", "count-tokens", "rawPredict")
        : location.ModelUrl("anthropic", call.Target.UpstreamModel, call.Facts.Stream ? "streamRawPredict" : "rawPredict");

    protected override void AddHostHeaders(HttpRequestHeaders headers, in UpstreamCall call)
    {
    }

    /// <summary>
    /// Two layers answer: Vertex's own front end (a refused token, a quota, a model not enabled in the project) in
    /// google.rpc.Status, and Claude behind it (invalid request, overloaded...) in Anthropic's error shape. Both put an
    /// object under "error"; only Google's carries a numeric code or a canonical status.
    /// </summary>
    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) =>
        GoogleErrors.Parse(body) is { } google && (google.Code != 0 || google.Status is not null)
            ? GoogleErrors.Classify(Settings.Name, status, google)
            : AnthropicErrors.Classify(Settings.Name, status, body);
}
