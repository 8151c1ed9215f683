using System.Net;
using System.Text.Json;
using Proxy.Pipeline;

namespace Proxy.Providers.Mock;

/// <summary>Answers mock calls in process, in the OpenAI wire format, paced like a model would be.</summary>
internal sealed class MockHandler(MockSettings settings, TimeProvider time) : HttpMessageHandler
{
    private long _sequence;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var call = ((MockRequest)request).Call;
        if (settings.Latency > TimeSpan.Zero) await Task.Delay(settings.Latency, time, cancellationToken);

        var id = "chatcmpl-mock-" + Interlocked.Increment(ref _sequence).ToString(System.Globalization.CultureInfo.InvariantCulture);
        long created = time.GetUtcNow().ToUnixTimeSeconds();
        int tokens = call.Facts.MaxTokens > 0 ? Math.Min(call.Facts.MaxTokens, settings.CompletionTokens) : settings.CompletionTokens;
        bool truncated = call.Facts.MaxTokens > 0 && call.Facts.MaxTokens < settings.CompletionTokens;
        int promptTokens = MockText.PromptTokens(call.Body.Length);
        var model = call.Target.UpstreamModel;

        HttpContent content = call.Operation switch
        {
            Operation.Embeddings => Json(w => MockEmbeddings.Write(w, call.Body.Span, model, settings.EmbeddingDimensions)),
            _ when call.Facts.Stream => new MockStreamContent(new MockStream(settings, time, id, created, model, tokens, truncated, promptTokens)),
            _ => Json(w => WriteCompletion(w, id, created, model, tokens, truncated, promptTokens)),
        };
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
    }

    private static ByteArrayContent Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new PooledBuffer(1024);
        using (var writer = new Utf8JsonWriter(buffer, Errors.JsonOutput.Options)) write(writer);
        var content = new ByteArrayContent(buffer.Span.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }

    private static void WriteCompletion(Utf8JsonWriter w, string id, long created, string model, int tokens, bool truncated, int promptTokens)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("object"u8, "chat.completion"u8);
        w.WriteNumber("created"u8, created);
        w.WriteString("model"u8, model);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("content"u8, MockText.Text(tokens));
        w.WriteNull("refusal"u8);
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        w.WriteString("finish_reason"u8, truncated ? "length"u8 : "stop"u8);
        w.WriteEndObject();
        w.WriteEndArray();
        MockStream.WriteUsage(w, promptTokens, tokens);
        w.WriteString("system_fingerprint"u8, "mock"u8);
        w.WriteEndObject();
    }

    /// <summary>Serves the paced stream as the response body.</summary>
    private sealed class MockStreamContent(MockStream stream) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream target, TransportContext? context) => stream.CopyToAsync(target);

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) stream.Dispose();
            base.Dispose(disposing);
        }
    }
}
