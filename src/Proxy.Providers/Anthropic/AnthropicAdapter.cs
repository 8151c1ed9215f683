using System.Buffers;
using Proxy.Config;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API (<c>POST {base_url}/messages</c>): the request is translated from the OpenAI shape
/// (<see cref="AnthropicRequestWriter"/>), the answer and the stream back to it, errors to the OpenAI error shape.
/// Auth is <c>x-api-key</c>; <c>anthropic-version</c> comes from config; a client's <c>anthropic-beta</c> header is
/// passed on so clients can opt in to beta features.
/// </summary>
public sealed class AnthropicAdapter : ProviderAdapter
{
    private readonly Uri _messagesUrl;
    private readonly AnthropicSettings _anthropic;
    private readonly AnthropicDialect _dialect;
    private readonly TimeProvider _time;

    public AnthropicAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AnthropicSettings anthropic, TimeProvider time) : base(settings, invoker)
    {
        var baseUrl = settings.BaseUrl ?? throw new ArgumentException("base_url is required", nameof(settings));
        _messagesUrl = new Uri(baseUrl.ToString().TrimEnd('/') + "/messages");
        _anthropic = anthropic;
        _dialect = AnthropicDialect.Api(anthropic.DefaultMaxTokens);
        _time = time;
    }

    public override bool PassesThrough => false;

    public override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        if (call.Operation != Operation.ChatCompletions)
            throw new UnsupportedRequestException($"Provider '{Settings.Name}' (Anthropic) has no embeddings API; route embeddings to another provider.", "model");
        var body = new ArrayBufferWriter<byte>(call.Body.Length + 256);
        AnthropicRequestWriter.Write(call.Body, call.Facts, call.Target.UpstreamModel, _dialect, body);
        var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, _messagesUrl) { Content = content };
        UpstreamTransport.SetVersion(request, Settings.BaseUrl!);
        var headers = request.Headers;
        if (!string.IsNullOrEmpty(Settings.ApiKey)) headers.TryAddWithoutValidation("x-api-key", Settings.ApiKey);
        headers.TryAddWithoutValidation("anthropic-version", _anthropic.Version);
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

    public override StreamTranscoder CreateStreamTranscoder(in UpstreamCall call) =>
        new AnthropicStreamTranscoder(Settings.Name, call.Facts.IncludeUsage, _time.GetUtcNow().ToUnixTimeSeconds());

    public override void TranscodeResponse(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, IBufferWriter<byte> output, ref Usage usage) =>
        AnthropicResponseWriter.Write(upstreamBody, _time.GetUtcNow().ToUnixTimeSeconds(), output, ref usage);

    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage) => AnthropicResponseWriter.ReadUsage(upstreamBody, ref usage);

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) => AnthropicErrors.Classify(Settings.Name, status, body);
}
