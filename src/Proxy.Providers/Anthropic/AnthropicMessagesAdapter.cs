using System.Buffers;
using System.Net.Http.Headers;
using Proxy.Answers;
using Proxy.ClientApis;
using Proxy.Config;
using Proxy.Ingress;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Claude's Messages API wherever it is hosted. A client that speaks Messages itself passes through: its request goes up
/// as it is, only what the host's <see cref="AnthropicDialect"/> wants elsewhere spliced (<see cref="AnthropicPassthroughBody"/>),
/// and the answer comes back byte for byte (<see cref="AnthropicPassthroughTranscoder"/>). Any other client's request
/// arrives as the canonical OpenAI chat request and is translated (<see cref="AnthropicRequestWriter"/>); the answer is
/// decoded into neutral events (<see cref="AnthropicStreamDecoder"/>, <see cref="AnthropicMessageDecoder"/>) for the
/// client API's writer. A host says where the request goes and how it is authorized: Anthropic's own API
/// (<see cref="AnthropicAdapter"/>) or Vertex AI (<see cref="Vertex.AnthropicVertexAdapter"/>). A client's
/// <c>anthropic-beta</c> header is passed on to both.
/// </summary>
public abstract class AnthropicMessagesAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AnthropicDialect dialect)
    : ProviderAdapter(settings, invoker)
{
    private readonly AnthropicDialect _dialect = dialect;
    private readonly byte[]? _versionProperty = dialect.VersionInBody is { } version ? AnthropicPassthroughBody.VersionProperty(version) : null;

    public override bool Speaks(ApiFormat format) => format == ApiFormat.AnthropicMessages;

    /// <summary>Where the Messages request goes (the model is in the URL on hosts whose dialect leaves it out of the body).</summary>
    protected abstract Uri MessagesUrl(in UpstreamCall call);

    /// <summary>The host's own headers (credentials, version); called before the configured and the client's headers are added.</summary>
    protected abstract void AddHostHeaders(HttpRequestHeaders headers, in UpstreamCall call);

    public sealed override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        if (call.Operation == Operation.Embeddings)
            throw CallRejectedException.Unsupported($"Provider '{Settings.Name}' (Anthropic) has no embeddings API; route embeddings to another provider.", "model");
        var request = new HttpRequestMessage(HttpMethod.Post, MessagesUrl(call)) { Content = PassesThrough(call) ? Passthrough(call) : Translated(call) };
        UpstreamTransport.SetVersion(request, Settings.BaseUrl!);
        var headers = request.Headers;
        AddHostHeaders(headers, call);
        foreach (var (name, value) in Settings.Headers) headers.TryAddWithoutValidation(name, value);
        // Beta features are the client's choice; a configured anthropic-beta header and the client's are both sent.
        if (call.ClientHeaders is { } client && client.TryGetValue("anthropic-beta", out var beta))
        {
            foreach (var value in beta)
            {
                if (!string.IsNullOrWhiteSpace(value)) headers.TryAddWithoutValidation("anthropic-beta", value);
            }
        }
        if (call.Facts.Stream) headers.TryAddWithoutValidation("Accept", "text/event-stream");
        return request;
    }

    /// <summary>The client's own Messages request, spliced for the host.</summary>
    private SplicedContent Passthrough(in UpstreamCall call) =>
        new(call.Body, AnthropicPassthroughBody.Plan(call.Body.Span, call.Facts, CountsTokens(call) ? ModelInBody : _dialect, _versionProperty, call.Target));

    /// <summary>Token counting takes the model in the body on every host (Vertex AI's count-tokens endpoint too).</summary>
    private static readonly AnthropicDialect ModelInBody = AnthropicDialect.Api(AnthropicSettings.DefaultMaxTokensValue);

    protected static bool CountsTokens(in UpstreamCall call) => call.Operation == Operation.CountTokens;

    /// <summary>The canonical OpenAI chat request, written as a Messages request for the host.</summary>
    private ReadOnlyMemoryContent Translated(in UpstreamCall call)
    {
        var body = new ArrayBufferWriter<byte>(call.Body.Length + 256);
        AnthropicRequestWriter.Write(call.Body, call.Facts, call.Target.UpstreamModel, _dialect, body);
        var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }


    public override StreamDecoder CreateStreamDecoder(in UpstreamCall call) => new AnthropicStreamDecoder(Settings.Name);

    public override void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, AnswerWriter writer) =>
        AnthropicMessageDecoder.Decode(upstreamBody, writer);

    protected override StreamTranscoder CreatePassthroughTranscoder(in UpstreamCall call) => new AnthropicPassthroughTranscoder();

    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage) => AnthropicMessageDecoder.ReadUsage(upstreamBody, ref usage);

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) => AnthropicErrors.Classify(Settings.Name, status, body);
}
