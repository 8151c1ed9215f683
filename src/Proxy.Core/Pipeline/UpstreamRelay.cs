using System.Buffers;
using System.Diagnostics;
using Proxy.Accounting;
using Proxy.Metrics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Proxy.Errors;
using Proxy.Providers;
using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// Sends one attempt upstream and relays the answer: plain answers whole, streams event by event with a flush per
/// read. A failure before anything reached the client is not written: it is left, classified, in
/// <see cref="CallOutcome.Failure"/>, and the router retries it or writes it (<see cref="WriteFailureAsync"/>). Every
/// failure says whose it was, the upstream's or the client's, and which timeout expired; never a silent truncation.
/// </summary>
public static class UpstreamRelay
{

    public static async Task ForwardAsync(HttpContext ctx, UpstreamCall call, CallOutcome outcome, ILogger logger, CancellationToken clientAborted)
    {
        var target = call.Target;
        var adapter = target.Provider.Adapter;
        // One token for the upstream: the client leaving or a timeout both cancel it at once.
        using var attemptTimer = new AttemptTimer(clientAborted);
        Deadlines.Arm(attemptTimer, outcome, target.FirstByteTimeout, TimeoutKind.FirstByte);

        HttpResponseMessage response;
        HttpRequestMessage built;
        try
        {
            built = adapter.BuildRequest(call);
        }
        catch (CallRejectedException e)
        {
            // A request the provider's API cannot express: the client's to fix, never a silent drop, and nothing was sent.
            outcome.Fail(new AttemptFailure
            {
                Status = e.Failure.Status, Type = e.Failure.Type, Code = e.Failure.Code, Param = e.Param, Message = e.Failure.Message,
                Reason = FailureReasons.Unsupported,
            });
            outcome.UpstreamError = null;
            return;
        }
        using var request = built;
        if (target.ConnectTimeout != target.Provider.ConnectTimeout) UpstreamTransport.SetConnectTimeout(request, target.ConnectTimeout);
        Tracing.GatewayTracing.Propagate(request, ctx.Request.Headers);
        outcome.MarkSent();
        try
        {
            response = await adapter.Invoker.SendAsync(request, attemptTimer.Token);
            outcome.UpstreamHeaders = Stopwatch.GetTimestamp();
        }
        catch (Exception e) when (clientAborted.IsCancellationRequested)
        {
            Log.ClientGone(logger, call.RequestId);
            _ = e;
            outcome.ErrorClass = ErrorClasses.ClientClosed;
            outcome.UpstreamDone = Stopwatch.GetTimestamp();
            return;
        }
        catch (Exception e)
        {
            var failure = DescribeSendFailure(e, target, outcome.ArmedTimeout);
            outcome.Fail(failure);
            if (failure.Reason == FailureReasons.GatewayResources) Log.OutOfDescriptors(logger, call.RequestId, target.Provider.Name);
            else Log.UpstreamFailed(logger, call.RequestId, target.Provider.Name, failure.Reason, failure.Message);
            return;
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            outcome.UpstreamStatus = status;
            if (status is < 200 or >= 300)
            {
                await ReadErrorAsync(call, response, outcome, logger, attemptTimer.Token);
                return;
            }
            if (call.Facts.Stream && call.Operation == Operation.ChatCompletions)
            {
                await StreamRelay.RelayAsync(ctx, call, response, attemptTimer, outcome, logger, clientAborted);
                return;
            }
            await RelayPlainAsync(ctx, call, response, outcome, logger, attemptTimer, clientAborted);
        }
    }

    /// <summary>Writes a request's final failure: the upstream's own body when it is in the client's shape, else the gateway's in the client's shape.</summary>
    public static Task WriteFailureAsync(HttpContext ctx, AttemptFailure failure, ClientApis.ClientApi api)
    {
        var res = ctx.Response;
        if (res.HasStarted) return Task.CompletedTask;
        if (failure.RetryAfterHeader is { } retryAfter) res.Headers[HeaderNames.RetryAfter] = retryAfter;
        if (failure.Body is { } body)
        {
            res.StatusCode = failure.Status;
            res.ContentType = "application/json";
            res.ContentLength = body.Length;
            return res.BodyWriter.WriteAsync(body.Memory, ctx.RequestAborted).AsTask();
        }
        return ErrorResponses.WriteAsync(ctx, failure.Status, failure.Message, failure.Type, failure.Param, failure.Code, api);
    }

    private static async Task RelayPlainAsync(HttpContext ctx, UpstreamCall call, HttpResponseMessage response, CallOutcome outcome, ILogger logger,
        AttemptTimer attemptTimer, CancellationToken clientAborted)
    {
        var adapter = call.Target.Provider.Adapter;
        Deadlines.Arm(attemptTimer, outcome, call.Target.IdleTimeout, TimeoutKind.Idle);
        using var answer = new PooledBuffer((int)Math.Min(response.Content.Headers.ContentLength ?? 4096, 1 << 20));
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(attemptTimer.Token);
            while (true)
            {
                int n = await stream.ReadAsync(answer.GetMemory(8192), attemptTimer.Token);
                if (n == 0) break;
                answer.Advance(n);
                Deadlines.Arm(attemptTimer, outcome, call.Target.IdleTimeout, TimeoutKind.Idle);
            }
        }
        catch (Exception e) when (clientAborted.IsCancellationRequested)
        {
            _ = e;
            Log.ClientGone(logger, call.RequestId);
            outcome.ErrorClass = ErrorClasses.ClientClosed;
            outcome.UpstreamDone = Stopwatch.GetTimestamp();
            return;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            // Nothing was written yet: the whole answer is read before any of it goes out, so this attempt can be retried.
            var failure = e is OperationCanceledException
                ? TimedOut(call.Target, outcome.ArmedTimeout, "stopped sending its answer", "upstream_incomplete")
                : new AttemptFailure
                {
                    Status = 502, Type = OpenAiError.Upstream, Code = "upstream_incomplete", Reason = FailureReasons.Incomplete, Retryable = true,
                    Message = $"Upstream '{call.Target.Provider.Name}' dropped the connection mid-answer: {e.Message}", UpstreamStatus = outcome.UpstreamStatus,
                };
            outcome.Fail(failure);
            Log.UpstreamFailed(logger, call.RequestId, call.Target.Provider.Name, failure.Reason, failure.Message);
            return;
        }

        outcome.UpstreamDone = Stopwatch.GetTimestamp();
        var res = ctx.Response;
        if (call.PassesThrough)
        {
            res.StatusCode = 200;
            res.ContentType = "application/json";
            // A token count is not usage: nothing was generated or billed.
            if (call.Operation != Operation.CountTokens) adapter.ReadUsage(answer.Span, ref outcome.Usage);
            outcome.CaptureResponse(answer.Span);
            // A provider that keeps Responses (OpenAI, Azure) names the answer; the gateway remembers where it is kept.
            (call.Api as ClientApis.OpenAiResponses.OpenAiResponsesApi)?.PassedThrough(ClientApis.OpenAiResponses.Store.PassthroughResponseIds.OfResponse(answer.Span));
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
            outcome.CaptureResponse(answer.Span);
            var failure = new AttemptFailure
            {
                Status = 502, Type = OpenAiError.Upstream, Code = "upstream_invalid_answer", Reason = FailureReasons.InvalidAnswer, UpstreamStatus = outcome.UpstreamStatus,
                Message = $"Upstream '{call.Target.Provider.Name}' sent an answer the gateway could not read: {e.Message}",
            };
            outcome.Fail(failure);
            Log.UpstreamFailed(logger, call.RequestId, call.Target.Provider.Name, failure.Reason, e.Message);
            return;
        }
        catch (CallRejectedException e)
        {
            // A 2xx that is a refusal (a blocked prompt): the client gets the error the adapter made of it; not retried.
            outcome.CaptureResponse(answer.Span);
            outcome.Fail(new AttemptFailure
            {
                Status = e.Failure.Status, Type = e.Failure.Type, Code = e.Failure.Code, Param = e.Param, Message = e.Failure.Message,
                Reason = FailureReasons.Unsupported, UpstreamStatus = outcome.UpstreamStatus,
            });
            outcome.UpstreamError = null;
            return;
        }
        res.StatusCode = 200;
        res.ContentType = "application/json";
        outcome.CaptureResponse(translated.Span);
        res.ContentLength = translated.Length;
        await res.BodyWriter.WriteAsync(translated.Memory, clientAborted);
    }

    /// <summary>Reads a non-2xx answer and classifies it; the body is kept for the client when it is already in the OpenAI shape.</summary>
    private static async Task ReadErrorAsync(UpstreamCall call, HttpResponseMessage response, CallOutcome outcome, ILogger logger, CancellationToken ct)
    {
        var adapter = call.Target.Provider.Adapter;
        int status = (int)response.StatusCode;
        var body = new PooledBuffer(4096);
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

        var failure = adapter.ClassifyError(status, response.Headers, body.Span);
        outcome.CaptureResponse(body.Span);
        // The upstream's own error body goes to a client that speaks its API, under the status the gateway answers; a status the
        // gateway would change (a 401 that is the gateway's credential, not the client's) keeps the gateway's own answer,
        // unless the client's API has that status itself (Anthropic's 529).
        bool passBody = call.PassesThrough && call.Api.IsOwnErrorShape(body.Span) && (failure.Status == status || call.Api.KeepsStatus(status));
        if (!passBody) body.Dispose();
        var reason = Metrics.UpstreamErrors.ForStatus(status);
        var attempt = new AttemptFailure
        {
            Status = passBody ? status : failure.Status, Type = failure.Type, Code = failure.Code, Message = failure.Message, Reason = reason,
            // The adapter knows its provider's answers (an error body can say "overloaded"); the status bounds what is ever retried.
            Retryable = failure.Retryable && FailureReasons.IsRetryableStatus(status),
            UpstreamStatus = status,
            RetryAfter = Backoff.RetryAfter(response.Headers, DateTimeOffset.UtcNow),
            RetryAfterHeader = response.Headers.RetryAfter?.ToString(),
            Body = passBody ? body : null,
        };
        outcome.Fail(attempt);
        Log.UpstreamFailed(logger, call.RequestId, call.Target.Provider.Name, reason, $"HTTP {status}: {failure.Message}");
    }

    private const int MaxErrorBody = 64 * 1024;

    /// <summary>A timer expired: which one, in words an operator can act on.</summary>
    internal static AttemptFailure TimedOut(Target target, TimeoutKind kind, string what, string code)
    {
        var name = target.Provider.Name;
        var (reason, message) = kind switch
        {
            TimeoutKind.Total => (FailureReasons.TotalTimeout, $"Upstream '{name}' {what}: the route's total timeout expired."),
            TimeoutKind.Attempt => (FailureReasons.AttemptTimeout, $"Upstream '{name}' {what}: the target's total timeout ({Seconds(target.AttemptTimeout)}s) expired."),
            TimeoutKind.FirstByte => (FailureReasons.FirstByteTimeout, $"Upstream '{name}' did not answer within {Seconds(target.FirstByteTimeout)}s (first byte timeout)."),
            _ => (FailureReasons.IdleTimeout, $"Upstream '{name}' {what}: no data for {Seconds(target.IdleTimeout)}s (idle timeout)."),
        };
        return new AttemptFailure
        {
            Status = 504, Type = OpenAiError.Timeout, Code = code, Message = message, Reason = reason,
            // The route's deadline is spent for every target; any other timer is one target's trouble.
            Retryable = kind != TimeoutKind.Total,
        };
    }

    /// <summary>Why sending failed, in words an operator can act on.</summary>
    internal static AttemptFailure DescribeSendFailure(Exception e, Target target, TimeoutKind armed)
    {
        var provider = target.Provider.Name;
        var connect = FindInner<ConnectTimeoutException>(e);
        if (connect is not null || e is OperationCanceledException { InnerException: TimeoutException })
        {
            // Ours (a route's or target's override), or the connection pool's own (the provider's connect_timeout).
            var limit = connect?.Timeout ?? target.Provider.ConnectTimeout;
            return new AttemptFailure
            {
                Status = 504, Type = OpenAiError.Timeout, Code = "upstream_timeout", Reason = FailureReasons.ConnectTimeout, Retryable = true,
                Message = $"Upstream '{provider}' could not be connected to within {Seconds(limit)}s (connect timeout).",
            };
        }
        if (e is OperationCanceledException)
            return TimedOut(target, armed == TimeoutKind.Idle ? TimeoutKind.FirstByte : armed, "did not answer", "upstream_timeout");
        if (ResourceExhaustion.IsOutOfDescriptors(e)) return OutOfDescriptors(provider);
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
        return new AttemptFailure
        {
            Status = 502, Type = OpenAiError.Upstream, Code = "upstream_unreachable", Reason = FailureReasons.Unreachable, Retryable = true,
            Message = $"Upstream '{provider}' is unreachable: {what}.",
        };
    }

    /// <summary>
    /// The gateway could not open a connection because it is out of file descriptors: 503 with Retry-After, naming the
    /// gateway, not the upstream, as the cause. Not retried: another target needs a descriptor from the same exhausted
    /// table, and a retry would hold the client's descriptor longer; answering at once frees it.
    /// </summary>
    private static AttemptFailure OutOfDescriptors(string provider) => new()
    {
        Status = 503, Type = OpenAiError.Server, Code = "gateway_resources_exhausted", Reason = FailureReasons.GatewayResources,
        ErrorClass = Metrics.ErrorClasses.GatewayResources, Retryable = false, RetryAfterHeader = "1",
        Message = $"The gateway is out of file descriptors and could not open a connection to '{provider}'; retry shortly.",
    };

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    private static T? FindInner<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
        }
        return null;
    }
}
