using System.Text.Json;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Streaming;

namespace Proxy.Providers.Gemini;

/// <summary>
/// <c>streamGenerateContent?alt=sse</c> read into neutral answer events: each <c>data:</c> event is a whole
/// GenerateContentResponse (<see cref="GeminiResponseReader"/>). Gemini's stream has no end marker and may repeat
/// finishReason and running usage on several events, so the finish, the usage and the end are told when the body ends
/// (<see cref="Complete"/>), and only if a finishReason was seen; a body that ends without one was cut. An error object
/// in the stream, a prompt blocked before any candidate, or an event that is not JSON fails the answer.
/// </summary>
public sealed class GeminiStreamDecoder : SseStreamDecoder
{
    private readonly GeminiResponseReader _reader;
    private readonly string _provider;

    /// <param name="model">The answer's model as a JSON string token (the target's upstream model).</param>
    public GeminiStreamDecoder(byte[] model, string requestId, string provider)
    {
        _reader = new GeminiResponseReader(model, requestId, provider);
        _provider = provider;
    }

    protected override void OnEvent(ReadOnlySpan<byte> evt, AnswerWriter writer)
    {
        if (!SseFramer.TryGetData(evt, out var data)) return;
        UpstreamFailure? failure;
        try
        {
            failure = _reader.Read(data, writer);
        }
        catch (JsonException e)
        {
            writer.Error($"Upstream '{_provider}' sent a stream event that is not valid JSON: {e.Message}", OpenAiError.Upstream, "upstream_invalid_answer", 502);
            return;
        }
        if (failure is { } f) writer.Error(f.Message, f.Type, f.Code, f.Status);
    }

    public override void Complete(AnswerWriter writer)
    {
        if (!_reader.Finished) return; // no finish seen: the stream was cut, and the relay says so
        _reader.Finish(writer);
        writer.SetUsage(_reader.Usage);
        writer.End();
    }
}
