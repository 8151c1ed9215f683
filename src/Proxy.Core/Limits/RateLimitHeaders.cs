using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Proxy.Limits;

/// <summary>
/// OpenAI's rate-limit headers on every answer of a limited request: <c>x-ratelimit-limit-requests</c>,
/// <c>-remaining-requests</c>, <c>-reset-requests</c> and the <c>-tokens</c> ones, each from the tightest counter of its
/// kind (the one with the least left) among the key's, the team's and the route's. Resets are written as OpenAI does
/// (<c>20ms</c>, <c>2s</c>, <c>6m0s</c>).
/// </summary>
public static class RateLimitHeaders
{
    public static void Set(HttpResponse response, LimitCheck[] checks, LimitDecision decision)
    {
        if (decision.FailedClosed) return;
        SetKind(response, checks, decision, LimitKind.Requests, "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests");
        SetKind(response, checks, decision, LimitKind.Tokens, "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens");
    }

    private static void SetKind(HttpResponse response, LimitCheck[] checks, LimitDecision decision, LimitKind kind, string limit, string remaining, string reset)
    {
        int tightest = -1;
        for (int i = 0; i < checks.Length; i++)
        {
            if (checks[i].Kind != kind || checks[i].Shadow) continue;
            if (tightest < 0 || decision.States[i].Remaining < decision.States[tightest].Remaining) tightest = i;
        }
        if (tightest < 0) return;
        var state = decision.States[tightest];
        var headers = response.Headers;
        headers[limit] = checks[tightest].Rule.LimitText(state.Limit);
        headers[remaining] = state.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[reset] = Duration(state.Reset);
    }

    /// <summary>The texts of whole seconds up to a window's minute, made once: most resets are one of them.</summary>
    private static readonly string[] Seconds = [.. Enumerable.Range(0, 61).Select(s => s == 60 ? "1m0s" : s + "s")];

    /// <summary>
    /// Go's duration text, as OpenAI writes it: 0s, 17ms, 2s, 6m0s. Past a second it is rounded up to whole seconds (a
    /// client waiting that long is never early), so the common values are strings made once.
    /// </summary>
    public static string Duration(TimeSpan d)
    {
        long ms = (long)Math.Ceiling(d.TotalMilliseconds);
        if (ms <= 0) return "0s";
        if (ms < 1000) return ms.ToString(CultureInfo.InvariantCulture) + "ms";
        long seconds = (ms + 999) / 1000;
        if (seconds <= 60) return Seconds[seconds];
        return (seconds / 60).ToString(CultureInfo.InvariantCulture) + "m" + (seconds % 60).ToString(CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>Retry-After in whole seconds, at least 1.</summary>
    public static string RetryAfterSeconds(TimeSpan d) => Math.Max(1, (long)Math.Ceiling(d.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
