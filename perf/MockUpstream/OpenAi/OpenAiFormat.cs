using System.Buffers;
using System.Text.Json;

namespace MockUpstream.OpenAi;

/// <summary>The OpenAI API: POST /v1/chat/completions (plain and SSE), POST /v1/embeddings, GET /v1/models.</summary>
internal sealed class OpenAiFormat(MockOptions options) : IMockFormat
{
    private readonly ChatPayloads _chat = new(options);
    private readonly Embeddings _embeddings = new(options);
    private readonly byte[] _models = BuildModels(options.Model);

    internal static readonly byte[] BadRequest = Wire.Json(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", "mock-upstream: the request body is not a JSON object it understands");
        w.WriteString("type", "invalid_request_error");
        w.WriteNull("param");
        w.WriteNull("code");
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/chat/completions", (RequestDelegate)ChatAsync);
        routes.MapPost("/v1/embeddings", (RequestDelegate)_embeddings.HandleAsync);
        routes.MapGet("/v1/models", (RequestDelegate)(ctx => Wire.WriteAsync(ctx, _models)));
    }

    private async Task ChatAsync(HttpContext ctx)
    {
        ChatRequest req = await Wire.ParseBodyAsync(ctx, ParseChat);
        if (!req.Valid)
        {
            await Wire.WriteAsync(ctx, BadRequest, status: 400);
            return;
        }
        Pacing p = Pacing.For(ctx.Request, options);
        CancellationToken ct = ctx.RequestAborted;
        try
        {
            await Pacing.Delay(p.LatencyMs, ct);
            if (!req.Stream)
            {
                await Wire.WriteAsync(ctx, _chat.Plain);
                return;
            }

            StreamPlan plan = _chat.Plan(p.Chunks, req.IncludeUsage);
            await Wire.StartSseAsync(ctx);
            await Pacing.Delay(p.TtftMs, ct);
            if (!await Wire.SendEventAsync(ctx, plan.Role)) return;
            for (int i = 0; i < plan.Content.Length; i++)
            {
                if (i > 0) await Pacing.Delay(p.ChunkIntervalMs, ct);
                if (!await Wire.SendEventAsync(ctx, plan.Content[i])) return;
            }
            if (!await Wire.SendEventAsync(ctx, plan.Stop)) return;
            if (plan.Usage is not null && !await Wire.SendEventAsync(ctx, plan.Usage)) return;
            await Wire.SendEventAsync(ctx, Wire.SseDone);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left mid-stream (a load generator at the end of its run): nothing to answer.
        }
    }

    private readonly record struct ChatRequest(bool Valid, bool Stream, bool IncludeUsage);

    /// <summary>Reads only the two top-level fields that change the response shape: "stream" and "stream_options.include_usage".</summary>
    private static ChatRequest ParseChat(ReadOnlySequence<byte> body)
    {
        var r = new Utf8JsonReader(body);
        bool stream = false, includeUsage = false;
        try
        {
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return default;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                bool isStream = r.ValueTextEquals("stream"u8), isOptions = r.ValueTextEquals("stream_options"u8);
                r.Read();
                if (isStream) stream = r.TokenType == JsonTokenType.True;
                else if (isOptions && r.TokenType == JsonTokenType.StartObject)
                {
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        bool isUsage = r.ValueTextEquals("include_usage"u8);
                        r.Read();
                        if (isUsage) includeUsage = r.TokenType == JsonTokenType.True;
                        else r.Skip();
                    }
                }
                else r.Skip(); // no-op for a scalar, jumps over an object or array (messages, tools, ...)
            }
            return new ChatRequest(true, stream, includeUsage);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static byte[] BuildModels(string model) => Wire.Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        foreach (string id in new[] { model, Embeddings.DefaultModel })
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "model");
            w.WriteNumber("created", 1_700_000_000);
            w.WriteString("owned_by", "mock-upstream");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
