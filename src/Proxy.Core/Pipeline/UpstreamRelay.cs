using System.Buffers;
using System.Diagnostics;
using Proxy.Accounting;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Proxy.Errors;
using Proxy.Metrics;
using Proxy.Providers;

namespace Proxy.Pipeline;

/// <summary>
/// Sends one call upstream and relays the answer: plain answers whole, streams event by event with a flush
/// per read. Every failure is said to be the upstream's or the client's, never a silent truncation.
/// </summary>
public static class UpstreamRelay
{
    private static readonly StreamPipeReaderOptions UpstreamReaderOptions = new(pool: MemoryPool<byte>.Shared, bufferSize: 8192, minimumReadSize: 2048, leaveOpen: true);

    public static async Task ForwardAsync(HttpContext ctx, UpstreamCall call, CallOutcome outcome, ILogger logger, CancellationToken clientAborted)
    {
        var provider = call.Target.Provider;
        var adapter = provider.Adapter;
        // One token for the upstream: the client leaving or a timeout both cancel it at once.
        using var upstreamCts = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        upstreamCts.CancelAfter(provider.FirstByteTimeout);

        HttpResponseMessage response;
        HttpRequestMessage built;
        try
        {
            built = adapter.BuildRequest(call);
        }
        catch (CallRejectedException e)
        {
            // A request the provider's API cannot express: the client's to fix, never a silent drop, and nothing was sent.
            outcome.ErrorClass = e.Failure.Type;
            await ErrorResponses.WriteAsync(ctx, e.Failure.Status, e.Failure.Message, e.Failure.Type, e.Param, e.Failure.Code);
            return;
        }
        using var request = built;
        Tracing.GatewayTracing.Propagate(request, ctx.Request.Headers);
        outcome.UpstreamSent = Stopwatch.GetTimestamp();
        try
        {
            response = await adapter.Invoker.SendAsync(request, upstreamCts.Token);
            outcome.UpstreamHeaders = Stopwatch.GetTimestamp();
        }
        catch (Exception e) when (clientAborted.IsCancellationRequested)
        {
            Log.ClientGone(logger, call.RequestId);
            _ = e;
            outcome.ErrorClass = "client_closed";
            outcome.UpstreamDone = Stopwatch.GetTimestamp();
            return;
        }
        catch (Exception e)
        {
            outcome.UpstreamDone = Stopwatch.GetTimestamp();
            var (status, type, message) = DescribeSendFailure(e, provider.Name, provider.FirstByteTimeout);
            outcome.ErrorClass = type;
            outcome.UpstreamError = status == 504 ? UpstreamErrors.Timeout : UpstreamErrors.Unreachable;
            Log.UpstreamFailed(logger, call.RequestId, provider.Name, message);
            await ErrorResponses.WriteAsync(ctx, status, message, type, code: status == 504 ? "upstream_timeout" : "upstream_unreachable");
            return;
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            outcome.UpstreamStatus = status;
            if (status is < 200 or >= 300)
            {
                await RelayErrorAsync(ctx, call, response, outcome, logger, upstreamCts.Token);
                return;
            }
            if (call.Facts.Stream && call.Operation == Operation.ChatCompletions)
            {
                await StreamRelay.RelayAsync(ctx, call, response, upstreamCts, outcome, logger, clientAborted);
                return;
            }
            await RelayPlainAsync(ctx, call, response, outcome, logger, upstreamCts, clientAborted);
        }
    }

    private static async Task RelayPlainAsync(HttpContext ctx, UpstreamCall call, HttpResponseMessage response, CallOutcome outcome, ILogger logger,
        CancellationTokenSource upstreamCts, CancellationToken clientAborted)
    {
        var adapter = call.Target.Provider.Adapter;
        upstreamCts.CancelAfter(call.Target.Provider.IdleTimeout);
        using var answer = new PooledBuffer((int)Math.Min(response.Content.Headers.ContentLength ?? 4096, 1 << 20));
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(upstreamCts.Token);
            while (true)
            {
                int n = await stream.ReadAsync(answer.GetMemory(8192), upstreamCts.Token);
                if (n == 0) break;
                answer.Advance(n);
                upstreamCts.CancelAfter(call.Target.Provider.IdleTimeout);
            }
        }
        catch (Exception e) when (clientAborted.IsCancellationRequested)
        {
            _ = e;
            Log.ClientGone(logger, call.RequestId);
            outcome.ErrorClass = "client_closed";
            outcome.UpstreamDone = Stopwatch.GetTimestamp();
            return;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            outcome.UpstreamDone = Stopwatch.GetTimestamp();
            outcome.ErrorClass = e is OperationCanceledException ? OpenAiError.Timeout : OpenAiError.Upstream;
            outcome.UpstreamError = e is OperationCanceledException ? UpstreamErrors.Timeout : UpstreamErrors.Incomplete;
            var reason = e is OperationCanceledException ? "stopped sending its answer (idle timeout)" : "dropped the connection mid-answer: " + e.Message;
            Log.UpstreamFailed(logger, call.RequestId, call.Target.Provider.Name, reason);
            await ErrorResponses.WriteAsync(ctx, e is OperationCanceledException ? 504 : 502,
                $"Upstream '{call.Target.Provider.Name}' {reason}", OpenAiError.Upstream, code: "upstream_incomplete");
            return;
        }

        outcome.UpstreamDone = Stopwatch.GetTimestamp();
        var res = ctx.Response;
        res.StatusCode = 200;
        res.ContentType = "application/json";
        if (adapter.PassesThrough)
        {
            adapter.ReadUsage(answer.Span, ref outcome.Usage);
            outcome.CaptureResponse(answer.Span);
            res.ContentLength = answer.Length;
            await res.BodyWriter.WriteAsync(answer.Memory, clientAborted);
            return;
        }
        using var translated = new PooledBuffer(answer.Length);
        try
        {
            adapter.TranscodeResponse(answer.Span, call, translated, ref outcome.Usage);
        }
        catch (InvalidUpstreamAnswerException e)
        {
            outcome.ErrorClass = OpenAiError.Upstream;
            outcome.UpstreamError = UpstreamErrors.InvalidAnswer;
            outcome.CaptureResponse(answer.Span);
            Log.UpstreamFailed(logger, call.RequestId, call.Target.Provider.Name, e.Message);
            await ErrorResponses.WriteAsync(ctx, 502, $"Upstream '{call.Target.Provider.Name}' sent an answer the gateway could not read: {e.Message}",
                OpenAiError.Upstream, code: "upstream_invalid_answer");
            return;
        }
        catch (CallRejectedException e)
        {
            // A 2xx that is a refusal (a blocked prompt): the client gets the error the adapter made of it.
            outcome.ErrorClass = e.Failure.Type;
            outcome.CaptureResponse(answer.Span);
            await ErrorResponses.WriteAsync(ctx, e.Failure.Status, e.Failure.Message, e.Failure.Type, e.Param, e.Failure.Code);
            return;
        }
        outcome.CaptureResponse(translated.Span);
        res.ContentLength = translated.Length;
        await res.BodyWriter.WriteAsync(translated.Memory, clientAborted);
    }

    private static async Task RelayErrorAsync(HttpContext ctx, UpstreamCall call, HttpResponseMessage response, CallOutcome outcome, ILogger logger, CancellationToken ct)
    {
        var adapter = call.Target.Provider.Adapter;
        int status = (int)response.StatusCode;
        using var body = new PooledBuffer(4096);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            int n;
            while (body.Length < MaxErrorBody && (n = await stream.ReadAsync(body.GetMemory(4096), ct)) > 0) body.Advance(n);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            // The status says what happened; a body cut short only loses detail.
        }

        outcome.UpstreamDone = Stopwatch.GetTimestamp();
        var failure = adapter.ClassifyError(status, response.Headers, body.Span);
        outcome.ErrorClass = failure.Type;
        outcome.UpstreamError = UpstreamErrors.ForStatus(status);
        outcome.CaptureResponse(body.Span);
        Log.UpstreamFailed(logger, call.RequestId, call.Target.Provider.Name, $"HTTP {status}: {failure.Message}");
        var res = ctx.Response;
        if (response.Headers.RetryAfter is { } retryAfter) res.Headers[HeaderNames.RetryAfter] = retryAfter.ToString();
        if (failure.Status == status && adapter.PassesThrough && OpenAiError.IsOpenAiShape(body.Span))
        {
            res.StatusCode = status;
            res.ContentType = "application/json";
            res.ContentLength = body.Length;
            await res.BodyWriter.WriteAsync(body.Memory, ctx.RequestAborted);
            return;
        }
        await ErrorResponses.WriteAsync(ctx, failure.Status, failure.Message, failure.Type, code: failure.Code);
    }

    private const int MaxErrorBody = 64 * 1024;

    /// <summary>Says which upstream and what went wrong, in words an operator can act on.</summary>
    internal static (int Status, string Type, string Message) DescribeSendFailure(Exception e, string provider, TimeSpan firstByteTimeout)
    {
        if (e is OperationCanceledException oce)
        {
            return oce.InnerException is TimeoutException
                ? (504, OpenAiError.Timeout, $"Upstream '{provider}' could not be connected to in time (connect timeout).")
                : (504, OpenAiError.Timeout, $"Upstream '{provider}' did not answer within {firstByteTimeout.TotalSeconds:0.###}s (first byte timeout).");
        }
        var socket = FindInner<SocketException>(e);
        var what = e is HttpRequestException hre ? hre.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "its host name could not be resolved",
            HttpRequestError.ConnectionError => socket is not null ? $"the connection failed ({socket.SocketErrorCode}: {socket.Message})" : "the connection failed",
            HttpRequestError.SecureConnectionError => "the TLS handshake failed (certificate not trusted or protocol mismatch)",
            HttpRequestError.ResponseEnded => "it closed the connection before answering",
            HttpRequestError.InvalidResponse => "it sent an invalid HTTP response",
            _ => e.Message,
        } : e.Message;
        return (502, OpenAiError.Upstream, $"Upstream '{provider}' is unreachable: {what}.");
    }

    private static T? FindInner<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
        }
        return null;
    }
}
