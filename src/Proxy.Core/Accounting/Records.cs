using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Proxy.Metrics;
using Proxy.Pipeline;
using Proxy.Providers;

namespace Proxy.Accounting;

/// <summary>Turns a finished request's outcome into its log record.</summary>
internal static class Records
{
    public const int ClientClosedStatus = 499;

    public static RequestRecord Build(HttpContext ctx, Operation operation, string requestId, PooledBuffer body, CallOutcome o)
    {
        long end = Stopwatch.GetTimestamp();
        long total = CallOutcome.Micros(o.Start, end);
        // Time spent waiting on the upstream: from sending to its last byte (or to the failure, or to the end). With
        // retries, from sending the first attempt: failed attempts and the waits between them are the upstreams' time.
        long upstream = o.FirstUpstreamSent == 0 ? 0 : CallOutcome.Micros(o.FirstUpstreamSent, o.UpstreamDone != 0 ? o.UpstreamDone : end);
        bool truncated = o.Truncated || (o.BodyCap > 0 && body.Length > o.BodyCap);
        var status = ctx.Response.StatusCode;
        // An aborted client has no status it saw; a 2xx with a failure class is a stream that broke after it began.
        var errorClass = o.ErrorClass ?? (ctx.RequestAborted.IsCancellationRequested ? ErrorClasses.ClientClosed : status >= 400 ? "error" : null);
        // A client that left before any of its answer was sent got no status: 499, nginx's "client closed request",
        // rather than the 200 the response object still holds. Once an answer began, the status it carried stands.
        // Metrics and traces take the status from here, so all three agree.
        if (errorClass == ErrorClasses.ClientClosed && (!ctx.Response.HasStarted || o.AnswerLost)) status = ClientClosedStatus;
        return new RequestRecord
        {
            RequestId = requestId,
            StartedAt = o.StartedAt,
            Operation = operation switch { Operation.Embeddings => "embeddings", Operation.CountTokens => "count_tokens", _ => "chat.completions" },
            KeyId = o.KeyId,
            Route = o.Route?.Name,
            Provider = o.Target?.Provider.Name,
            UpstreamModel = o.Target?.UpstreamModel,
            Region = o.Target?.Region,
            Status = status,
            ErrorClass = errorClass,
            UpstreamError = o.FailureReason,
            Stream = o.Stream,
            PromptTokens = o.Usage.PromptTokens,
            CompletionTokens = o.Usage.CompletionTokens,
            CachedTokens = o.Usage.CachedTokens,
            CacheWriteTokens = o.Usage.CacheWriteTokens,
            ClientApi = o.Api.Name,
            UsageReported = o.Usage.Reported,
            CostNanoUsd = o.Usage.Reported && o.Target?.Price is { } price
                ? price.CostNanoUsd(o.Usage.PromptTokens, o.Usage.CompletionTokens, o.Usage.CachedTokens, o.Usage.CacheWriteTokens) : 0,
            Attempts = o.Attempts,
            FailedAttempts = o.FailedAttempts is { } failed ? failed : [],
            TotalUs = total,
            UpstreamTtfbUs = CallOutcome.Micros(o.UpstreamSent, o.UpstreamHeaders),
            TtftUs = CallOutcome.Micros(o.Start, o.FirstEvent),
            GatewayOverheadUs = Math.Max(0, total - upstream),
            LimitsUs = o.LimitsUs,
            LimitedBy = o.LimitedBy,
            Cache = o.CacheResult,
            // The record outlives the request's pooled buffers, so what the policy keeps is copied.
            RequestBody = o.BodyCap == 0 ? default : body.Span[..Math.Min(body.Length, o.BodyCap)].ToArray(),
            ResponseBody = o.ResponseCapture is { } r ? r.Span.ToArray() : default,
            BodiesTruncated = truncated,
        };
    }
}
