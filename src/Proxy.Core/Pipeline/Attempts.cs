using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Proxy.Accounting;
using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// The router's decisions between attempts, synchronous so the request's one async method (ProxyHandler) runs the loop
/// without a second state machine: what an attempt taught the target's breaker and latency score, and after a
/// failure whether there is a next attempt, where, and after what wait.
/// </summary>
internal static class Attempts
{
    /// <summary>Books the attempt that just ended against its target: latency sample, breaker verdict.</summary>
    public static void Complete(Route route, ref AttemptState state, CallOutcome outcome, ILogger logger)
    {
        var target = route.Targets[state.Current];
        if (target.Latency is { } latency && outcome.UpstreamSent != 0)
        {
            if (outcome.UpstreamHeaders != 0) latency.Observe(CallOutcome.Micros(outcome.UpstreamSent, outcome.UpstreamHeaders));
            else if (outcome.FailureReason is { } failed && !FailureReasons.IsGatewaysOwn(failed))
                latency.ObserveFailure(CallOutcome.Micros(outcome.UpstreamSent, Stopwatch.GetTimestamp()));
        }
        if (!state.HoldsLease || state.LeaseTarget != state.Current) return;
        var breaker = target.Breaker!;
        var lease = state.Lease;
        state.DropLease();
        var reason = outcome.FailureReason;
        // The client leaving, a request the gateway refused itself, or the gateway out of descriptors says nothing about the target.
        if ((reason is null && outcome.ErrorClass is not null) || (reason is not null && FailureReasons.IsGatewaysOwn(reason)))
        {
            breaker.Release(lease);
            return;
        }
        Transitioned(route, target, breaker.Record(lease, success: reason is null || !FailureReasons.CountsAgainstTarget(reason)), logger);
    }

    /// <summary>
    /// After a failed attempt: the index of the next target (its breaker lease taken) and the wait before it, or -1 when
    /// the failure is the request's answer. Counts and logs what it decided either way.
    /// </summary>
    public static int Next(Route route, ref AttemptState state, AttemptFailure failure, CallOutcome outcome, string requestId, ILogger logger, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        int failed = state.Current;
        var failedTarget = route.Targets[failed];
        var retries = route.Retries;
        if (!failure.Retryable)
        {
            if (retries.Attempts > 1) Log.NotRetried(logger, requestId, state.Attempts, failedTarget.HeaderValue, failure.Reason, "not a retryable failure");
            return -1;
        }

        string? stop = null;
        int next = -1;
        long now = Stopwatch.GetTimestamp(), deadline = outcome.RequestDeadline;
        if (state.Attempts >= retries.Attempts) stop = StopReasons.Attempts;
        else if (deadline != 0 && now >= deadline) stop = StopReasons.Deadline;
        else
        {
            // A target that asked for a longer wait than the route allows is not tried again in this request.
            uint exclude = failure.RetryAfter > retries.MaxRetryAfter ? 1u << failed : 0;
            next = TargetPicker.Pick(route, ref state, exclude, out var transition);
            if (next < 0) stop = exclude != 0 ? StopReasons.RetryAfter : StopReasons.NoTarget;
            else
            {
                Transitioned(route, route.Targets[next], transition, logger);
                int tries = state.TriesOf(next);
                // Another target is tried at once; a target tried before waits its backoff, or the Retry-After it sent.
                delay = tries == 0 ? TimeSpan.Zero
                    : next == failed && failure.RetryAfter is { } asked ? asked
                    : Backoff.Delay(retries, tries, Random.Shared.NextDouble());
                if (deadline != 0 && Deadlines.From(now, delay) >= deadline) stop = StopReasons.Deadline;
                else if (route.Budget is { } budget && !budget.TryWithdraw()) stop = StopReasons.Budget;
                if (stop is not null)
                {
                    if (state.HoldsLease) route.Targets[next].Breaker!.Release(state.Lease);
                    state.DropLease();
                    next = -1;
                }
            }
        }
        if (stop is not null)
        {
            // A route that never retries has nothing to report; one that could and did not says why.
            if (retries.Attempts > 1)
            {
                route.Metrics?.CountStopped(stop);
                Log.NotRetried(logger, requestId, state.Attempts, failedTarget.HeaderValue, failure.Reason, stop);
            }
            return -1;
        }

        bool same = next == failed;
        if (FailureReasons.UpstreamClass(failure.Reason) is { } kind) failedTarget.Provider.Metrics?.CountError(kind);
        if (same) failedTarget.Metrics?.CountRetry(failure.Reason);
        else failedTarget.Metrics?.CountFallback(failure.Reason);
        outcome.RecordFailedAttempt(new AttemptRecord
        {
            Provider = failedTarget.Provider.Name, UpstreamModel = failedTarget.UpstreamModel, Region = failedTarget.Region,
            Error = failure.Reason, UpstreamStatus = failure.UpstreamStatus,
            DurationUs = CallOutcome.Micros(outcome.UpstreamSent, outcome.UpstreamDone != 0 ? outcome.UpstreamDone : now),
            Next = same ? "retry" : "fallback", DelayUs = (long)delay.TotalMicroseconds,
        });
        Log.TryingAgain(logger, requestId, state.Attempts, failedTarget.HeaderValue, failure.Reason, same ? "retrying" : "falling back",
            route.Targets[next].HeaderValue, (long)delay.TotalMilliseconds);
        return next;
    }

    /// <summary>Gives back a lease the request still holds (it ended between attempts, or by an exception).</summary>
    public static void Abandon(Route route, ref AttemptState state)
    {
        if (!state.HoldsLease) return;
        route.Targets[state.LeaseTarget].Breaker?.Release(state.Lease);
        state.DropLease();
    }

    public static void Transitioned(Route route, Target target, BreakerTransition transition, ILogger logger)
    {
        if (transition == BreakerTransition.None) return;
        target.Metrics?.CountTransition(transition);
        Log.BreakerChanged(logger, route.Name, target.HeaderValue, transition switch
        {
            BreakerTransition.Opened => "open",
            BreakerTransition.HalfOpened => "half-open",
            _ => "closed",
        });
    }
}
