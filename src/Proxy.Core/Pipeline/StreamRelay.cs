using System.Buffers;
using System.Diagnostics;
using Proxy.Accounting;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.Errors;
using Proxy.Metrics;
using Proxy.Providers;
using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// Relays a streamed answer: reads what the upstream sent, lets the adapter's transcoder turn whole events
/// into client events, and flushes after every read that produced one, so no chunk waits for the next.
/// A stream that breaks before its clean end ends the client's stream with an error event, never a quiet finish.
/// </summary>
internal static class StreamRelay
{
    // Zero-byte reads: between chunks (a long stream is mostly waiting) the reader holds no buffer, and the upstream
    // connection may return its own read buffer too; a buffer is rented only once bytes are there to read.
    private static readonly StreamPipeReaderOptions ReaderOptions = new(pool: MemoryPool<byte>.Shared, bufferSize: 4096, minimumReadSize: 1024,
        leaveOpen: true, useZeroByteReads: true);

    public static async Task RelayAsync(HttpContext ctx, UpstreamCall call, HttpResponseMessage response, AttemptTimer attemptTimer,
        CallOutcome outcome, ILogger logger, CancellationToken clientAborted)
    {
        var target = call.Target;
        var transcoder = target.Provider.Adapter.CreateStreamTranscoder(call);
        var res = ctx.Response;
        res.StatusCode = 200;
        res.ContentType = "text/event-stream";
        res.Headers.CacheControl = "no-cache";
        res.Headers["X-Accel-Buffering"] = "no"; // an nginx in front must not hold chunks back

        var writer = res.BodyWriter;
        // The body policy (or the response cache) keeps the events as sent; with no capture the transcoder writes straight to the client.
        IBufferWriter<byte> output = outcome.CapturesResponse ? new CapturingWriter(writer, outcome) : writer;
        var state = new StreamState();
        string? failure = null;
        bool timedOut = false;
        try
        {
            Deadlines.Arm(attemptTimer, outcome, target.IdleTimeout, TimeoutKind.Idle);
            var stream = await response.Content.ReadAsStreamAsync(attemptTimer.Token);
            var reader = PipeReader.Create(stream, ReaderOptions);
            try
            {
                while (true)
                {
                    var result = await reader.ReadAsync(attemptTimer.Token);
                    var buffer = result.Buffer;
                    int before = state.EventsWritten;
                    transcoder.Transcode(ref buffer, output, ref state);
                    if (result.IsCompleted && !buffer.IsEmpty && !state.Completed && !state.Failed)
                    {
                        TranscodeTail(transcoder, buffer, output, ref state);
                        buffer = buffer.Slice(buffer.End);
                    }
                    if (result.IsCompleted && !state.Completed && !state.Failed) transcoder.Complete(output, ref state);
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (state.EventsWritten != before)
                    {
                        long now = Stopwatch.GetTimestamp();
                        if (outcome.FirstEvent == 0) outcome.FirstEvent = now;
                        else target.Metrics?.ChunkGap.Observe(CallOutcome.Micros(outcome.LastEvent, now));
                        outcome.LastEvent = now;
                        var flush = await writer.FlushAsync(clientAborted);
                        if (flush.IsCanceled || flush.IsCompleted)
                        {
                            Log.ClientGone(logger, call.RequestId);
                            Finish(outcome, state, ErrorClasses.ClientClosed);
                            return;
                        }
                    }
                    if (state.Completed || state.Failed) break;
                    if (result.IsCompleted)
                    {
                        failure = "the upstream closed the stream before it was complete";
                        break;
                    }
                    Deadlines.Arm(attemptTimer, outcome, target.IdleTimeout, TimeoutKind.Idle);
                }
            }
            finally
            {
                await reader.CompleteAsync();
            }
        }
        catch (Exception e) when (clientAborted.IsCancellationRequested)
        {
            _ = e;
            Log.ClientGone(logger, call.RequestId);
            Finish(outcome, state, ErrorClasses.ClientClosed);
            return;
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            failure = outcome.ArmedTimeout switch
            {
                TimeoutKind.Total => "the route's total timeout expired",
                TimeoutKind.Attempt => $"the target's total timeout ({target.AttemptTimeout.TotalSeconds:0.###}s) expired",
                _ => $"no data for {target.IdleTimeout.TotalSeconds:0.###}s (idle timeout)",
            };
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            failure = "the connection to the upstream broke: " + e.Message;
        }

        if (failure is null)
        {
            Finish(outcome, state, state.Failed ? OpenAiError.Upstream : null);
            if (state.Failed)
            {
                // The provider's own error event has been passed on; end the connection the same way as below.
                outcome.UpstreamError = outcome.FailureReason = UpstreamErrors.StreamError;
                await AbortAfterErrorAsync(ctx);
            }
            return;
        }
        var reason = !timedOut ? FailureReasons.Incomplete
            : outcome.ArmedTimeout switch { TimeoutKind.Total => FailureReasons.TotalTimeout, TimeoutKind.Attempt => FailureReasons.AttemptTimeout, _ => FailureReasons.IdleTimeout };
        var message = $"Upstream '{target.Provider.Name}' stream failed: {failure}.";
        if (!res.HasStarted && state.EventsWritten == 0)
        {
            // Nothing reached the client: the attempt failed as if the upstream had failed outright, and the router may
            // try again (another target, or this one after a backoff) or answer with a plain error.
            res.Headers.CacheControl = default;
            res.Headers.Remove("X-Accel-Buffering");
            res.ContentType = null;
            outcome.Usage = state.Usage;
            outcome.Fail(new AttemptFailure
            {
                Status = timedOut ? 504 : 502, Type = timedOut ? OpenAiError.Timeout : OpenAiError.Upstream, Code = "upstream_stream_broken",
                Message = message, Reason = reason, Retryable = reason != FailureReasons.TotalTimeout, UpstreamStatus = outcome.UpstreamStatus,
            });
            Log.UpstreamFailed(logger, call.RequestId, target.Provider.Name, reason, message);
            return;
        }
        Finish(outcome, state, timedOut ? OpenAiError.Timeout : OpenAiError.Upstream);
        outcome.FailureReason = reason;
        outcome.UpstreamError = FailureReasons.UpstreamClass(reason);
        Log.StreamBroken(logger, call.RequestId, target.Provider.Name, reason, failure);
        call.Api.WriteErrorEvent(writer, timedOut ? 504 : 502, message, timedOut ? OpenAiError.Timeout : OpenAiError.Upstream, "upstream_stream_broken");
        try
        {
            await writer.FlushAsync(clientAborted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            Log.ClientGone(logger, call.RequestId);
        }
        await AbortAfterErrorAsync(ctx);
    }

    /// <summary>
    /// After the error event, the response is aborted rather than ended: clients that read error events see the
    /// message, and clients that ignore them (the official .NET SDK does) still see a broken stream, not a
    /// complete answer. HTTP/1.1 gets no final chunk; HTTP/2 gets RST_STREAM.
    /// Kestrel's abort drops output not yet handed to the socket, and a flush only hands it to the transport's
    /// pipe, so the abort waits a moment for the error event to leave (a cost paid only by failed streams).
    /// </summary>
    private static async Task AbortAfterErrorAsync(HttpContext ctx)
    {
        await Task.Delay(AbortGrace);
        ctx.Abort();
    }

    private static readonly TimeSpan AbortGrace = TimeSpan.FromMilliseconds(100);

    private static void Finish(CallOutcome outcome, in StreamState state, string? errorClass)
    {
        outcome.UpstreamDone = Stopwatch.GetTimestamp();
        outcome.Usage = state.Usage;
        outcome.ErrorClass ??= errorClass;
    }

    /// <summary>The upstream ended without a final blank line: treat what is left as one last whole event.</summary>
    private static void TranscodeTail(StreamTranscoder transcoder, ReadOnlySequence<byte> rest, IBufferWriter<byte> writer, ref StreamState state)
    {
        var tail = new byte[rest.Length + 2];
        rest.CopyTo(tail);
        tail[^2] = (byte)'\n';
        tail[^1] = (byte)'\n';
        var seq = new ReadOnlySequence<byte>(tail);
        transcoder.Transcode(ref seq, writer, ref state);
    }
}
