using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.ClientApis;
using Proxy.Errors;
using Proxy.Keys;
using Proxy.Metrics;
using Proxy.Pipeline;
using Proxy.Providers;
using Proxy.Routing;

namespace Proxy.Limits;

/// <summary>
/// The limits stage of the request path, between routing and the upstream call: the key's, its team's and the route's
/// limits checked in one store call, the rate-limit headers, the 429 (or the 503 of a limit that fails closed), and after
/// the answer the tokens reconciled and the leases released. Requests with no limits configured pay one branch.
/// </summary>
public sealed class LimitsStage(ILimitStore store, LeaseRenewer? renewer, GatewayMetrics metrics, ILogger logger)
{
    /// <summary>The embedded default on the system clock: for tests and benchmarks that build the pipeline by hand.</summary>
    public static LimitsStage InMemory(GatewayMetrics metrics) =>
        new(new InMemoryLimitStore(TimeProvider.System), null, metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>The checks of one request, or null when neither the key, its team nor the route has limits.</summary>
    public static LimitCheck[]? ChecksFor(VirtualKey key, Route route, int bodyBytes, int maxTokens, LimitsSettings settings)
    {
        var team = key.Team?.Limits ?? [];
        int n = key.Limits.Length + team.Length + route.Limits.Length;
        if (n == 0) return null;
        long tokens = EstimateTokens(bodyBytes, maxTokens, settings);
        var checks = new LimitCheck[n];
        int i = 0;
        foreach (var rule in key.Limits) checks[i++] = Check(rule, tokens);
        foreach (var rule in team) checks[i++] = Check(rule, tokens);
        foreach (var rule in route.Limits) checks[i++] = Check(rule, tokens);
        return checks;
    }

    /// <summary>
    /// What a request reserves of a tokens-per-minute limit before its answer: the input at 4 bytes a token (the JSON's
    /// syntax makes that generous) and the output cap it set, or the configured default. Settling corrects it.
    /// </summary>
    /// <param name="maxTokens">The request's output cap; 0 when it set none; negative for a request that generates nothing
    /// (count_tokens), which reserves no tokens.</param>
    public static long EstimateTokens(int bodyBytes, int maxTokens, LimitsSettings settings) =>
        maxTokens < 0 ? 0 : (bodyBytes + 3) / 4 + (maxTokens > 0 ? maxTokens : settings.DefaultOutputTokens);

    private static LimitCheck Check(LimitRule rule, long tokens) => new(rule, rule.Kind == LimitKind.Tokens ? tokens : 1);

    public ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string requestId, LimitsSettings settings, CancellationToken ct)
    {
        // The embedded store answers at once: no state machine for it, only for a store that goes over the network.
        var pending = store.AdmitAsync(checks, requestId, settings.LeaseTtl, ct);
        return pending.IsCompletedSuccessfully ? new(Decided(checks, requestId, pending.Result)) : AwaitDecision(pending, checks, requestId);
    }

    private async ValueTask<LimitDecision> AwaitDecision(ValueTask<LimitDecision> pending, LimitCheck[] checks, string requestId) =>
        Decided(checks, requestId, await pending.ConfigureAwait(false));

    /// <summary>Counts and logs what the decision says (store failures, limits reached, shadow limits) and holds its leases.</summary>
    private LimitDecision Decided(LimitCheck[] checks, string requestId, LimitDecision decision)
    {
        if (decision.StoreFailure is { } why)
        {
            metrics.LimitStoreFailed(store.Name, decision.FailedClosed);
            Log.LimitStoreFailed(logger, store.Name, why, decision.FailedClosed);
        }
        if (!decision.FailedClosed)
        {
            bool admitted = true;
            for (int i = 0; i < checks.Length; i++)
            {
                if (decision.States[i].Fits) continue;
                if (checks[i].Shadow)
                {
                    metrics.RateLimited(checks[i].Rule, refused: false);
                    Log.ShadowLimit(logger, requestId, checks[i].Counter);
                }
                else
                {
                    admitted = false;
                    metrics.RateLimited(checks[i].Rule, refused: true);
                }
            }
            if (admitted && renewer is not null && !decision.Local && HasConcurrency(checks)) renewer.Hold(store, checks, requestId);
        }
        return decision;
    }

    /// <summary>Sets the rate-limit headers; when refused, writes the 429 or 503 in the client's shape and returns false.</summary>
    public async ValueTask<bool> AnswerAsync(HttpContext ctx, Accounting.CallOutcome outcome, LimitCheck[] checks, LimitDecision decision)
    {
        RateLimitHeaders.Set(ctx.Response, checks, decision);
        if (decision.Admitted(checks)) return true;
        var response = ctx.Response;
        if (decision.FailedClosed)
        {
            metrics.Reject(RejectReason.LimitsUnavailable);
            response.Headers.RetryAfter = "1";
            outcome.ErrorClass = OpenAiError.Upstream;
            outcome.LimitedBy = "store";
            await ErrorResponses.WriteAsync(ctx, 503,
                "The gateway's rate-limit store did not answer in time and this request's limits fail closed; try again shortly.",
                OpenAiError.Upstream, code: "limits_unavailable", api: outcome.Api);
            return false;
        }
        metrics.Reject(RejectReason.RateLimited);
        // Every enforced limit that refused must have room again: the longest wait is the one to give.
        int worst = -1;
        for (int i = 0; i < checks.Length; i++)
            if (!decision.States[i].Fits && !checks[i].Shadow && (worst < 0 || decision.States[i].RetryAfter > decision.States[worst].RetryAfter)) worst = i;
        var state = decision.States[worst];
        var check = checks[worst];
        response.Headers.RetryAfter = RateLimitHeaders.RetryAfterSeconds(state.RetryAfter);
        outcome.ErrorClass = OpenAiError.RateLimit;
        outcome.LimitedBy = check.Counter;
        var message = check.Cost > state.Limit
            ? string.Create(CultureInfo.InvariantCulture,
                $"Request too large for the {check.Rule.Describe()}: it may use {check.Cost} tokens (input estimated from its size, plus its max tokens) and the limit is {state.Limit}. Lower max_tokens or shorten the input.")
            : string.Create(CultureInfo.InvariantCulture,
                $"Rate limit reached for the {check.Rule.Describe()}: limit {state.Limit}, remaining {state.Remaining}. Try again in {RateLimitHeaders.Duration(state.RetryAfter)}.");
        await ErrorResponses.WriteAsync(ctx, 429, message, OpenAiError.RateLimit, code: "rate_limit_exceeded", api: outcome.Api);
        return false;
    }

    /// <summary>
    /// After the answer, never waiting on the store: tokens reconciled to what the answer used (the provider's usage;
    /// a failure before any answer used none; a stream cut before its usage keeps its reservation), leases released.
    /// </summary>
    public void Settle(LimitCheck[] checks, LimitDecision decision, string requestId, in Usage usage, bool upstreamAnswered)
    {
        if (!decision.Admitted(checks)) return;
        renewer?.Release(requestId);
        long used = usage.Reported ? usage.PromptTokens + usage.CompletionTokens : upstreamAnswered ? -1 : 0;
        _ = SettleAsync(checks, decision, requestId, used);
    }

    private async Task SettleAsync(LimitCheck[] checks, LimitDecision decision, string requestId, long used)
    {
        try
        {
            if (used < 0)
            {
                // Unknown usage: each token check keeps what it reserved (settling to its own cost changes nothing).
                long reserved = 0;
                foreach (var c in checks) if (c.Kind == LimitKind.Tokens) { reserved = c.Cost; break; }
                used = reserved;
            }
            await store.SettleAsync(checks, decision, requestId, used).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Stores never throw here by contract; should one, the correction is lost and its leases expire.
        }
    }

    private static bool HasConcurrency(LimitCheck[] checks)
    {
        foreach (var c in checks) if (c.Kind == LimitKind.Concurrency) return true;
        return false;
    }
}
