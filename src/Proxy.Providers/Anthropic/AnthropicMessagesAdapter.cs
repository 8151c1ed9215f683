using System.Buffers;
using System.Net.Http.Headers;
using Proxy.Config;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// Claude's Messages API behind the OpenAI API, wherever it is hosted: the request body is translated from the OpenAI
/// shape for the host's <see cref="AnthropicDialect"/> (<see cref="AnthropicRequestWriter"/>), the answer and the
/// stream back to it (<see cref="AnthropicResponseWriter"/>, <see cref="AnthropicStreamTranscoder"/>). A host says
/// where the request goes and how it is authorized: Anthropic's own API (<see cref="AnthropicAdapter"/>) or Vertex AI
/// (<see cref="Vertex.AnthropicVertexAdapter"/>). A client's <c>anthropic-beta</c> header is passed on to both.
/// </summary>
public abstract class AnthropicMessagesAdapter(ProviderSettings settings, HttpMessageInvoker invoker, AnthropicDialect dialect, TimeProvider time)
    : ProviderAdapter(settings, invoker)
{
    public override bool Speaks(Proxy.ClientApis.ApiFormat format) => false;

    // Until this adapter is converted to the neutral contract it answers OpenAI chat clients only (its transcoders).
    public override Proxy.Answers.StreamDecoder CreateStreamDecoder(in UpstreamCall call) => throw new NotSupportedException("not converted yet");

    public override void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, Proxy.Answers.AnswerWriter writer) => throw new NotSupportedException("not converted yet");

    /// <summary>Where the Messages request goes (the model is in the URL on hosts whose dialect leaves it out of the body).</summary>
    protected abstract Uri MessagesUrl(in UpstreamCall call);

    /// <summary>The host's own headers (credentials, version); called before the configured and the client's headers are added.</summary>
    protected abstract void AddHostHeaders(HttpRequestHeaders headers);

    public sealed override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        if (call.Operation != Operation.ChatCompletions)
            throw CallRejectedException.Unsupported($"Provider '{Settings.Name}' (Anthropic) has no embeddings API; route embeddings to another provider.", "model");
        var body = new ArrayBufferWriter<byte>(call.Body.Length + 256);
        AnthropicRequestWriter.Write(call.Body, call.Facts, call.Target.UpstreamModel, dialect, body);
        var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, MessagesUrl(call)) { Content = content };
        UpstreamTransport.SetVersion(request, Settings.BaseUrl!);
        var headers = request.Headers;
        AddHostHeaders(headers);
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
        new AnthropicStreamTranscoder(Settings.Name, call.Facts.IncludeUsage, time.GetUtcNow().ToUnixTimeSeconds());

    public override void TranscodeResponse(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, IBufferWriter<byte> output, ref Usage usage) =>
        AnthropicResponseWriter.Write(upstreamBody, time.GetUtcNow().ToUnixTimeSeconds(), output, ref usage);

    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage) => AnthropicResponseWriter.ReadUsage(upstreamBody, ref usage);

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) => AnthropicErrors.Classify(Settings.Name, status, body);
}
