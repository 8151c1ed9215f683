using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.Accounting;
using Proxy.ClientApis;
using Proxy.Keys;
using Proxy.Metrics;

namespace Proxy.Cache;

/// <summary>
/// The response cache stage of the request path, after the limits stage (a hit is a request: limits apply) and before
/// any provider is called. A route with a <c>cache:</c> block looks each request up by its <see cref="CacheKey"/>: a hit
/// is answered from the store (200, the stored content type, the same bytes; a stream as a stream) and costs nothing; a
/// miss goes on to the provider with its answer copied as the client receives it, and is stored after its last byte
/// when it was a whole 200 that fits the route's <c>max_entry_bytes</c>. A store that fails or is slower than the
/// timeout is a miss; a write that fails is logged and counted. Neither ever reaches the client.
/// </summary>
public sealed class CacheStage(IResponseCache store, TimeSpan timeout, GatewayMetrics metrics, ILogger logger, TimeProvider time)
{
    /// <summary>On every answer of a caching route: <c>hit</c> or <c>miss</c>.</summary>
    public const string HeaderName = "x-gateway-cache";

    public const string Hit = "hit";
    public const string Miss = "miss";

    public IResponseCache Store => store;

    /// <summary>The embedded default on the system clock: for tests and benchmarks that build the pipeline by hand.</summary>
    public static CacheStage InMemory(GatewayMetrics metrics) =>
        new(new InMemoryResponseCache(CacheSettings.DefaultMaxBytes, TimeProvider.System), TimeSpan.FromMilliseconds(20), metrics,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);

    /// <summary>What a lookup leaves for the end of the request: the entry's key, and whether it was answered from the cache.</summary>
    public sealed class Ticket(string key, RouteCachePolicy policy, bool hit)
    {
        public string Key { get; } = key;
        public RouteCachePolicy Policy { get; } = policy;
        public bool Hit { get; } = hit;
    }

    /// <summary>
    /// Looks the request up. On a hit the answer is written and the ticket says so (the request is done); on a miss the
    /// <c>miss</c> header is set and the outcome starts copying the answer. Null when the request cannot be keyed.
    /// </summary>
    public async ValueTask<Ticket?> LookupAsync(HttpContext ctx, CallOutcome outcome, RouteCachePolicy policy, VirtualKey key, ReadOnlyMemory<byte> body,
        bool stream, CancellationToken ct)
    {
        var api = outcome.Api;
        // A Responses answer names a response the gateway stored under the key that made it: never shared between keys.
        bool isolate = policy.PerKey || api.Format == ApiFormat.OpenAiResponses;
        var cacheKey = CacheKey.Compute(api.Name, outcome.Route!.Name, stream, isolate ? key.Id : null, body, ctx.Request.Headers);
        if (cacheKey is null) return null;
        var entry = await ReadAsync(cacheKey, ct);
        if (entry is not null && CachedAnswer.TryDecode(entry, out var answer) && answer.IsStream == stream)
        {
            outcome.CacheResult = Hit;
            await AnswerAsync(ctx, outcome, answer, ct);
            return new Ticket(cacheKey, policy, hit: true);
        }
        outcome.CacheResult = Miss;
        ctx.Response.Headers[HeaderName] = Miss;
        outcome.CaptureForCache(policy.MaxEntryBytes);
        return new Ticket(cacheKey, policy, hit: false);
    }

    /// <summary>
    /// After a miss's last byte: stores the answer when it was a 200 that ended normally (a stream that ran to its end),
    /// reached the client whole, and fits the route's <c>max_entry_bytes</c>. Never waits on the store.
    /// </summary>
    public void Complete(HttpContext ctx, CallOutcome outcome, Ticket ticket)
    {
        if (ticket.Hit || !Storable(ctx, outcome)) return;
        var entry = CachedAnswer.Encode(ctx.Response.ContentType!, outcome.CacheCapture!.Span);
        _ = WriteAsync(ticket.Key, entry, ticket.Policy.Ttl);
    }

    /// <summary>Whether the answer the outcome holds is one to keep.</summary>
    public static bool Storable(HttpContext ctx, CallOutcome outcome) =>
        outcome.CacheCapture is { Length: > 0 } && !outcome.CacheCaptureOverflow
        && ctx.Response.StatusCode == 200 && outcome.UpstreamStatus is >= 200 and < 300
        && outcome.Failure is null && outcome.ErrorClass is null && !outcome.AnswerLost && !ctx.RequestAborted.IsCancellationRequested
        && ctx.Response.ContentType is { Length: > 0 and <= byte.MaxValue } type && System.Text.Ascii.IsValid(type);

    /// <summary>Reads that failed in a row before the store is skipped for <see cref="SkipFor"/> (as the limits' guard does).</summary>
    public const int FailuresToSkip = Limits.StoreBreaker.FailuresToOpen;

    public static readonly TimeSpan SkipFor = Limits.StoreBreaker.OpenFor;

    private readonly Limits.StoreBreaker _breaker = new(time);

    private async ValueTask<byte[]?> ReadAsync(string key, CancellationToken ct)
    {
        // A store that keeps failing (a frozen Redis) is skipped for a moment: those requests are misses at once instead of
        // each waiting out the timeout; after it, requests try the store again, so the cache comes back by itself.
        if (_breaker.IsOpen) return null;
        try
        {
            var pending = store.GetAsync(key, ct);
            // The in-memory store answers at once; only a remote one is put behind the deadline (and a Task).
            var entry = pending.IsCompleted ? await pending.ConfigureAwait(false) : await pending.AsTask().WaitAsync(timeout, time, ct).ConfigureAwait(false);
            _breaker.Succeeded();
            return entry;
        }
        catch (Exception e)
        {
            // The client left: the request ends on its own (the upstream call sees the same token); nothing to count.
            if (ct.IsCancellationRequested) return null;
            metrics.CacheStoreFailed(store.Name, write: false);
            CacheLog.ReadFailed(logger, store.Name, e is TimeoutException ? $"no answer within {timeout.TotalMilliseconds:0}ms" : e.Message);
            _breaker.Failed();
            return null;
        }
    }

    private async Task WriteAsync(string key, byte[] entry, TimeSpan ttl)
    {
        try
        {
            await store.SetAsync(key, entry, ttl).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            metrics.CacheStoreFailed(store.Name, write: true);
            CacheLog.WriteFailed(logger, store.Name, e.Message);
        }
    }

    /// <summary>A hit: the stored answer as the provider's was sent (a stream's events written and flushed at once).</summary>
    private static async ValueTask AnswerAsync(HttpContext ctx, CallOutcome outcome, CachedAnswer answer, CancellationToken ct)
    {
        var res = ctx.Response;
        res.StatusCode = 200;
        res.ContentType = answer.ContentType;
        res.Headers[HeaderName] = Hit;
        if (answer.IsStream)
        {
            res.Headers.CacheControl = "no-cache";
            res.Headers["X-Accel-Buffering"] = "no";
            outcome.FirstEvent = outcome.LastEvent = Stopwatch.GetTimestamp();
        }
        else
        {
            res.ContentLength = answer.Body.Length;
        }
        // The request log keeps it by its body policy, as it keeps any answer.
        outcome.CaptureResponse(answer.Body.Span);
        try
        {
            var flush = await res.BodyWriter.WriteAsync(answer.Body, ct);
            if (flush.IsCanceled || flush.IsCompleted) outcome.ErrorClass = ErrorClasses.ClientClosed;
        }
        catch (Exception e) when (ct.IsCancellationRequested || e is IOException or OperationCanceledException)
        {
            outcome.ErrorClass = ErrorClasses.ClientClosed;
        }
    }
}
