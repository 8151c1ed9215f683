using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.Accounting;
using Proxy.Config;
using Proxy.Errors;
using Proxy.Metrics;

namespace Proxy.Pipeline;

/// <summary>
/// The cap on proxied requests in flight (<c>server.max_concurrent_requests</c>). A proxied request holds up to two
/// file descriptors until its last byte (the client's connection and one to the provider); without a cap, a burst
/// of long streams runs the process out of descriptors and every request fails, the admitted ones included. Past the
/// cap a request is refused at once with 503 <c>gateway_overloaded</c> and Retry-After, before its key is checked, its
/// body read or an upstream connection opened. Health, readiness and metrics are not counted, so they still answer at
/// the cap. Lock-free: one compare-exchange to enter, one decrement to leave.
/// </summary>
public sealed class AdmissionGate(ConfigHolder config) : IMetricsSource
{
    /// <summary>Seconds a refused client is asked to wait: streams free their slots within seconds, and a client retrying
    /// through a load balancer may land on another replica at once.</summary>
    public const int RetryAfterSeconds = 1;

    private long _inFlight;
    private int _automaticLimit;

    /// <summary>Admitted requests not yet finished.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The cap when the config says auto (<see cref="ForDescriptors"/>); 0, no cap, until the host has measured it.</summary>
    public int AutomaticLimit
    {
        get => Volatile.Read(ref _automaticLimit);
        set => Volatile.Write(ref _automaticLimit, Math.Max(0, value));
    }

    /// <summary>The cap <paramref name="server"/> puts in force; 0 is none.</summary>
    public int LimitFor(ServerSettings server) => server.MaxConcurrentRequests ?? AutomaticLimit;

    /// <summary>Takes a slot, or returns false when the cap is reached. Every true must be paired with one <see cref="Exit"/>.</summary>
    public bool TryEnter(ServerSettings server)
    {
        int limit = LimitFor(server);
        if (limit <= 0)
        {
            Interlocked.Increment(ref _inFlight);
            return true;
        }
        // Compare-exchange rather than increment-then-undo: a refused request never holds a slot, even for an instant,
        // so a request arriving as another is refused is not refused with it.
        long current = Volatile.Read(ref _inFlight);
        while (current < limit)
        {
            long seen = Interlocked.CompareExchange(ref _inFlight, current + 1, current);
            if (seen == current) return true;
            current = seen;
        }
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// The automatic cap for an open-file limit: each request may hold two descriptors, after those already open and a
    /// headroom (an eighth of the limit, at least 64) for what holds one without being counted here: refused
    /// connections until their 503 is written, idle keep-alive client connections, idle pooled upstream connections,
    /// the request log's files. 0 (no cap) when the limit is unknown.
    /// </summary>
    public static int ForDescriptors(long openFileLimit, long openNow)
    {
        if (openFileLimit <= 0 || openFileLimit == long.MaxValue) return 0;
        long headroom = Math.Max(64, openFileLimit / 8);
        long perRequest = (openFileLimit - openNow - headroom) / 2;
        return (int)Math.Clamp(perRequest, 1, int.MaxValue);
    }

    /// <summary>
    /// Answers a refused request: 503 in the OpenAI shape, Retry-After, and Connection: close on HTTP/1.1 so the refused
    /// client's connection does not stay open as an idle keep-alive holding a descriptor the gateway is short of.
    /// Counted as a rejection and recorded (the caller's finally writes the record) with its own error class.
    /// </summary>
    internal Task RefuseAsync(HttpContext ctx, CallOutcome outcome, GatewayMetrics metrics, ILogger logger, string requestId, int limit)
    {
        metrics.Reject(RejectReason.Overloaded);
        outcome.ErrorClass = ErrorClasses.GatewayOverloaded;
        Log.Overloaded(logger, requestId, limit);
        var response = ctx.Response;
        response.Headers.RetryAfter = RetryAfterText;
        if (HttpProtocol.IsHttp11(ctx.Request.Protocol)) response.Headers.Connection = "close";
        return ErrorResponses.WriteAsync(ctx, StatusCodes.Status503ServiceUnavailable,
            $"The gateway is at its limit of {limit} concurrent requests; retry after {RetryAfterSeconds}s.",
            OpenAiError.Server, code: ErrorClasses.GatewayOverloaded, api: outcome.Api);
    }

    private static readonly string RetryAfterText = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private Prometheus.Gauge? _limit;

    public void Register(Prometheus.IMetricFactory factory) =>
        _limit = factory.CreateGauge(MetricNames.MaxConcurrentRequests, "The cap on proxied requests in flight (server.max_concurrent_requests, or derived from the open-file limit); 0 is none.");

    public void Update() => _limit?.Set(LimitFor(config.Current.Server));
}
