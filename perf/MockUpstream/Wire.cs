using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace MockUpstream;

/// <summary>
/// One provider wire format (OpenAI, later Anthropic, Bedrock, Gemini). Each lives in its own folder,
/// precomputes its response bytes in its constructor and is registered with one line in Program.cs.
/// </summary>
internal interface IMockFormat
{
    void Map(IEndpointRouteBuilder routes);
}

/// <summary>Helpers every format shares: reading the request body without copying, writing bytes, SSE framing.</summary>
internal static class Wire
{
    /// <summary>
    /// Buffers the whole body inside the request's pipe (no copy) and hands it to a synchronous parser:
    /// Utf8JsonReader is a ref struct and cannot live in an async method.
    /// </summary>
    public static async ValueTask<T> ParseBodyAsync<T>(HttpContext ctx, Func<ReadOnlySequence<byte>, T> parse)
    {
        PipeReader reader = ctx.Request.BodyReader;
        while (true)
        {
            // A client that leaves mid-body makes this throw BadHttpRequestException; it is left to Kestrel on
            // purpose: swallowing it leaves Kestrel's own read of the connection pending ("ReadingIsInProgress").
            ReadResult read = await reader.ReadAsync(ctx.RequestAborted);
            if (read.IsCompleted || read.IsCanceled)
            {
                try { return parse(read.Buffer); }
                finally { reader.AdvanceTo(read.Buffer.End); }
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End); // consumed nothing, examined all: wait for more
        }
    }

    /// <summary>A complete response whose bytes were built at start: status, content type, length, body in one write.</summary>
    public static Task WriteAsync(HttpContext ctx, byte[] body, string contentType = "application/json", int status = 200)
    {
        HttpResponse r = ctx.Response;
        r.StatusCode = status;
        r.ContentType = contentType;
        r.ContentLength = body.Length;
        ValueTask<FlushResult> write = r.BodyWriter.WriteAsync(body, ctx.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    /// <summary>Starts an SSE response: headers go out now, so the client's time-to-first-byte is the header time.</summary>
    public static Task StartSseAsync(HttpContext ctx)
    {
        HttpResponse r = ctx.Response;
        r.StatusCode = 200;
        r.ContentType = "text/event-stream";
        r.Headers.CacheControl = "no-cache";
        return r.StartAsync(ctx.RequestAborted);
    }

    /// <summary>
    /// Writes one precomputed SSE event and flushes it, so each chunk leaves as its own HTTP chunk and the
    /// client sees real inter-chunk timing. Returns false when the client has gone.
    /// </summary>
    public static async ValueTask<bool> SendEventAsync(HttpContext ctx, byte[] sseEvent)
    {
        FlushResult f = await ctx.Response.BodyWriter.WriteAsync(sseEvent, ctx.RequestAborted);
        return !f.IsCompleted && !f.IsCanceled;
    }

    /// <summary>Builds a JSON document once, at start, with the reflection-free writer.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> build)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer)) build(w);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>"data: {json}\n\n": one SSE event, ready to send.</summary>
    public static byte[] SseData(ReadOnlySpan<byte> json) => [.. "data: "u8, .. json, .. "\n\n"u8];

    public static readonly byte[] SseDone = Encoding.ASCII.GetBytes("data: [DONE]\n\n");
}
