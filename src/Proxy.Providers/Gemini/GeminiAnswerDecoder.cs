using System.Text.Json;
using Proxy.Answers;

namespace Proxy.Providers.Gemini;

/// <summary>
/// A whole Gemini <c>GenerateContentResponse</c> read into neutral answer events (<see cref="GeminiResponseReader"/>),
/// then finished and ended. A prompt Gemini blocked (promptFeedback.blockReason and no candidate) fails the answer with
/// a 400 naming the reason; a body that is not JSON is an <see cref="InvalidUpstreamAnswerException"/>.
/// </summary>
internal static class GeminiAnswerDecoder
{
    public static void Decode(ReadOnlySpan<byte> body, byte[] model, string requestId, string provider, AnswerWriter writer)
    {
        var reader = new GeminiResponseReader(model, requestId, provider);
        UpstreamFailure? failure;
        try
        {
            failure = reader.Read(body, writer);
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not JSON (" + e.Message + ")", e);
        }
        if (failure is { } f)
        {
            writer.Error(f.Message, f.Type, f.Code, f.Status);
            return;
        }
        reader.EnsureStarted(writer);
        if (reader.Finished) reader.Finish(writer);
        writer.End();
    }
}
