using Proxy.Config;
using Proxy.Providers.OpenAI;
using Proxy.Streaming;

namespace Proxy.Providers.Mock;

/// <summary>
/// Hands the call to the in-process <see cref="MockHandler"/> without serializing it. The answer comes back
/// as an ordinary HTTP response in the OpenAI shape, so the mock exercises the same relay path as real providers.
/// </summary>
public sealed class MockAdapter(ProviderSettings settings, HttpMessageInvoker invoker) : ProviderAdapter(settings, invoker)
{
    private static readonly Uri MockUri = new("http://mock.invalid/v1");

    /// <summary>The mock answers in OpenAI's chat and embeddings shapes only; other clients get its answers decoded.</summary>
    public override bool Speaks(Proxy.ClientApis.ApiFormat format) => format is Proxy.ClientApis.ApiFormat.OpenAiChat or Proxy.ClientApis.ApiFormat.OpenAiEmbeddings;

    public override Proxy.Answers.StreamDecoder CreateStreamDecoder(in UpstreamCall call) => new OpenAiChatStreamDecoder(Settings.Name);

    public override void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, Proxy.Answers.AnswerWriter writer) =>
        OpenAiChatAnswerDecoder.Decode(upstreamBody, writer);

    public override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        // Refused here, before "sending": the client gets OpenAI's 400 and the attempt counts against nothing.
        if (MockValidation.Check(call.Operation, call.Body.Span) is { } fault) throw fault.ToException();
        return new MockRequest(call, MockUri);
    }

    protected override StreamTranscoder CreatePassthroughTranscoder(in UpstreamCall call) => OpenAiSseTranscoder.For(call.Facts.IncludeUsage);

    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage) => OpenAiUsage.Read(upstreamBody, ref usage);

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) => OpenAiAdapter.Classify(Settings.Name, status, body);
}

/// <summary>The call itself travels in the request: the mock needs its facts, not a serialized body.</summary>
internal sealed class MockRequest(UpstreamCall call, Uri uri) : HttpRequestMessage(HttpMethod.Post, uri)
{
    public UpstreamCall Call { get; } = call;
}
