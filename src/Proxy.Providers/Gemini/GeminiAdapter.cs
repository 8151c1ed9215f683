using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Config;
using Proxy.Providers.Google;

namespace Proxy.Providers.Gemini;

/// <summary>
/// Gemini behind the OpenAI API, for both the Gemini API (<see cref="GeminiKind"/>) and Vertex AI
/// (<see cref="Vertex.VertexKind"/>): the request is translated (<see cref="GeminiRequest"/>), the answer
/// (<see cref="GeminiAnswerDecoder"/>) and stream (<see cref="GeminiStreamDecoder"/>) decoded into neutral answer events
/// for the client's writer (embeddings translated by <see cref="GeminiEmbeddings"/>), errors classified
/// by Google's status (<see cref="GoogleErrors"/>). Only the endpoint and the way requests are authorized differ.
/// </summary>
public sealed class GeminiAdapter(ProviderSettings settings, HttpMessageInvoker invoker, IGeminiEndpoint endpoint, TimeProvider? time = null)
    : ProviderAdapter(settings, invoker)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Gemini's API is no client API the gateway speaks: every answer is decoded and written in the client's.</summary>
    public override bool Speaks(Proxy.ClientApis.ApiFormat format) => false;

    public override HttpRequestMessage BuildRequest(in UpstreamCall call)
    {
        var model = call.Target.UpstreamModel;
        bool embeddings = call.Operation == Operation.Embeddings;
        var body = embeddings
            ? GeminiEmbeddings.Translate(call.Body, endpoint.EmbeddingApi, model, Settings.Type)
            : GeminiRequest.Translate(call.Body, Settings.Type);
        var request = new HttpRequestMessage(HttpMethod.Post, embeddings ? endpoint.Embed(model) : endpoint.Generate(model, call.Facts.Stream))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        UpstreamTransport.SetVersion(request, Settings.BaseUrl!);
        endpoint.Authorize(request);
        foreach (var (name, value) in Settings.Headers) request.Headers.TryAddWithoutValidation(name, value);
        if (call.Facts.Stream) request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        return request;
    }

    // The answer carries the target's model, as OpenAI's carries the one asked for (Gemini's modelVersion may differ).
    public override StreamDecoder CreateStreamDecoder(in UpstreamCall call) =>
        new GeminiStreamDecoder(call.Target.UpstreamModelJson, call.RequestId, call.Target.Provider.Name);

    public override void DecodeAnswer(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, AnswerWriter writer) =>
        GeminiAnswerDecoder.Decode(upstreamBody, call.Target.UpstreamModelJson, call.RequestId, call.Target.Provider.Name, writer);

    /// <summary>Embeddings are outside the answer contract: translated here. Chat answers go through <see cref="DecodeAnswer"/>.</summary>
    public override void TranscodeResponse(ReadOnlySpan<byte> upstreamBody, in UpstreamCall call, IBufferWriter<byte> output, ref Usage usage)
    {
        if (call.Operation == Operation.Embeddings)
            GeminiEmbeddings.WriteAnswer(upstreamBody, call.Body, endpoint.EmbeddingApi, AnswerContext.For(call, _time), output, ref usage);
        else
            base.TranscodeResponse(upstreamBody, call, output, ref usage);
    }

    public override void ReadUsage(ReadOnlySpan<byte> upstreamBody, ref Usage usage)
    {
        try
        {
            using var doc = JsonDocument.Parse(upstreamBody.ToArray());
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("usageMetadata", out var u))
                usage = GeminiUsage.From(u).ToUsage();
        }
        catch (JsonException)
        {
            // No usage in a malformed answer; accounting records none.
        }
    }

    public override UpstreamFailure ClassifyError(int status, ReadOnlySpan<byte> body) => GoogleErrors.Classify(Settings.Name, status, body);
}
