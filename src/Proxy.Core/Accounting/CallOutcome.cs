using System.Diagnostics;
using Proxy.Pipeline;
using Proxy.Providers;

namespace Proxy.Accounting;

/// <summary>What a body policy keeps of request and response bodies in the log.</summary>
public enum BodyPolicy
{
    /// <summary>No bodies: ids, tokens, timings only. The default: prompts are often personal data.</summary>
    Metadata,

    /// <summary>Each body up to a byte cap.</summary>
    Capped,

    /// <summary>Whole bodies.</summary>
    Full,
}

/// <summary>
/// What happened to one request, filled in as the pipeline goes (timestamps, usage, failure class, body
/// captures) and turned into one <see cref="RequestRecord"/> at the end. One per request.
/// </summary>
public sealed class CallOutcome(long start, DateTimeOffset startedAt, int bodyCap) : IDisposable
{
    public long Start { get; } = start;
    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>Stopwatch timestamps; 0 when the step was not reached.</summary>
    public long UpstreamSent { get; set; }
    public long UpstreamHeaders { get; set; }
    public long FirstEvent { get; set; }
    public long UpstreamDone { get; set; }

    /// <summary>When the first attempt was sent: with retries, the time from here on is the upstreams', not the gateway's.</summary>
    public long FirstUpstreamSent { get; private set; }

    public Usage Usage;

    /// <summary>Microseconds the limits stage took (its store call included); 0 when no limit applied.</summary>
    public long LimitsUs { get; set; }

    /// <summary>The counter that refused the request (e.g. <c>key:team-a:rpm</c>), or <c>store</c> when the store failed closed.</summary>
    public string? LimitedBy { get; set; }

    public string? ErrorClass { get; set; }

    /// <summary>An answer was written after the connection had closed (Kestrel drops it): none of it reached the client.</summary>
    public bool AnswerLost { get; set; }

    /// <summary>Why the provider call failed (<see cref="Metrics.UpstreamErrors"/>); null when it did not.</summary>
    public string? UpstreamError { get; set; }

    /// <summary>The provider's HTTP status; 0 when no answer came.</summary>
    public int UpstreamStatus { get; set; }

    /// <summary>Stopwatch timestamp of the last write of stream events to the client (for the chunk-gap histogram).</summary>
    public long LastEvent { get; set; }

    /// <summary>What the client speaks: the shape of every error the gateway writes, and the record's client_api.</summary>
    public ClientApis.ClientApi Api { get; set; } = ClientApis.ClientApi.OpenAiChat;

    public string? KeyId { get; set; }
    public Routing.Route? Route { get; set; }
    public Routing.Target? Target { get; set; }
    public bool Stream { get; set; }

    /// <summary>Upstream attempts started (0 when the request never reached a provider).</summary>
    public int Attempts { get; private set; }

    /// <summary>The current attempt's failure before anything reached the client; the router retries or writes it.</summary>
    public Pipeline.AttemptFailure? Failure { get; private set; }

    /// <summary>Why the last attempt failed (<see cref="Routing.FailureReasons"/>); null when it did not.</summary>
    public string? FailureReason { get; set; }

    /// <summary>The attempts that failed before the last one, in order; null when there were none (the common case).</summary>
    public List<AttemptRecord>? FailedAttempts { get; private set; }

    /// <summary>Stopwatch timestamp of the route's deadline for the whole request; 0 when the route has no total timeout.</summary>
    public long RequestDeadline => Route is { TotalTimeout.Ticks: > 0 } r ? Pipeline.Deadlines.From(Start, r.TotalTimeout) : 0;

    /// <summary>The sooner of the request's deadline and this attempt's (the target's total timeout), and which one it is; 0 is none.</summary>
    public long Deadline { get; private set; }
    public Pipeline.TimeoutKind DeadlineKind { get; private set; }

    /// <summary>Which timeout the attempt's timer is armed for, to name it when it fires.</summary>
    public Pipeline.TimeoutKind ArmedTimeout { get; set; }

    /// <summary>Bytes kept per body; 0 keeps none (metadata policy).</summary>
    public int BodyCap { get; } = bodyCap;

    /// <summary>The response as sent to the client (answer or SSE events), up to <see cref="BodyCap"/>.</summary>
    public PooledBuffer? ResponseCapture { get; private set; }

    public bool Truncated { get; set; }

    /// <summary>The response cache's verdict for the record and metrics: <c>hit</c>, <c>miss</c>, or null (the route does not cache).</summary>
    public string? CacheResult { get; set; }

    /// <summary>
    /// The answer as sent to the client, whole, for the response cache (a miss on a caching route); null otherwise.
    /// Apart from the log's <see cref="ResponseCapture"/>: what the body policy keeps is not changed by it.
    /// </summary>
    public PooledBuffer? CacheCapture { get; private set; }

    /// <summary>The answer outgrew <see cref="CacheCaptureCap"/>: it is not cached.</summary>
    public bool CacheCaptureOverflow { get; private set; }

    public int CacheCaptureCap { get; private set; }

    /// <summary>Whether a relay must copy what it writes (the log keeps bodies, or the cache keeps the answer).</summary>
    public bool CapturesResponse => BodyCap > 0 || CacheCapture is not null;

    /// <summary>From now on, the answer is copied whole for the response cache, up to <paramref name="cap"/> bytes.</summary>
    public void CaptureForCache(int cap)
    {
        CacheCaptureCap = cap;
        CacheCapture ??= new PooledBuffer(Math.Min(cap, 16 * 1024));
    }

    public void CaptureResponse(ReadOnlySpan<byte> bytes)
    {
        if (CacheCapture is { } cache && !CacheCaptureOverflow && !bytes.IsEmpty)
        {
            if (cache.Length + bytes.Length > CacheCaptureCap) CacheCaptureOverflow = true;
            else
            {
                bytes.CopyTo(cache.GetSpan(bytes.Length));
                cache.Advance(bytes.Length);
            }
        }
        if (BodyCap == 0 || bytes.IsEmpty) return;
        ResponseCapture ??= new PooledBuffer(Math.Min(bytes.Length, BodyCap));
        int room = BodyCap - ResponseCapture.Length;
        if (bytes.Length > room)
        {
            Truncated = true;
            bytes = bytes[..Math.Max(room, 0)];
        }
        bytes.CopyTo(ResponseCapture.GetSpan(bytes.Length));
        ResponseCapture.Advance(bytes.Length);
    }

    /// <summary>Starts attempt <paramref name="attempt"/> on <paramref name="target"/>: what the previous one left is cleared.</summary>
    public void BeginAttempt(Routing.Target target, int attempt)
    {
        if (attempt > 1)
        {
            UpstreamSent = UpstreamHeaders = UpstreamDone = FirstEvent = LastEvent = 0;
            UpstreamStatus = 0;
            Usage = default;
            ErrorClass = UpstreamError = FailureReason = null;
            Failure?.Dispose();
            Failure = null;
            ResponseCapture?.Clear();
            Truncated = false;
            CacheCapture?.Clear();
            CacheCaptureOverflow = false;
        }
        Target = target;
        Attempts = attempt;
        long request = RequestDeadline;
        long cap = target.AttemptTimeout > TimeSpan.Zero ? Pipeline.Deadlines.From(Stopwatch.GetTimestamp(), target.AttemptTimeout) : 0;
        (Deadline, DeadlineKind) = cap != 0 && (request == 0 || cap < request) ? (cap, Pipeline.TimeoutKind.Attempt) : (request, Pipeline.TimeoutKind.Total);
    }

    /// <summary>The request is being sent upstream now.</summary>
    public void MarkSent()
    {
        UpstreamSent = Stopwatch.GetTimestamp();
        if (FirstUpstreamSent == 0) FirstUpstreamSent = UpstreamSent;
    }

    /// <summary>The attempt failed before anything reached the client; the router decides what comes next.</summary>
    public void Fail(Pipeline.AttemptFailure failure)
    {
        Failure?.Dispose();
        Failure = failure;
        ErrorClass = failure.ErrorClass ?? failure.Type;
        FailureReason = failure.Reason;
        UpstreamError = Routing.FailureReasons.UpstreamClass(failure.Reason);
        if (UpstreamDone == 0) UpstreamDone = Stopwatch.GetTimestamp();
    }

    /// <summary>Keeps what the failed attempt was, for the log record, before the next one starts.</summary>
    public void RecordFailedAttempt(AttemptRecord attempt) => (FailedAttempts ??= []).Add(attempt);

    public static long Micros(long from, long to) => from == 0 || to == 0 ? 0 : (long)Stopwatch.GetElapsedTime(from, to).TotalMicroseconds;

    public void Dispose()
    {
        ResponseCapture?.Dispose();
        CacheCapture?.Dispose();
        Failure?.Dispose();
    }
}
