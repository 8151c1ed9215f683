namespace Proxy.Routing;

/// <summary>How long a request waits before it tries a target again.</summary>
public static class Backoff
{
    /// <summary>
    /// Exponential with "equal jitter": the n-th retry of a target waits between half and all of
    /// min(max_backoff, backoff × 2^(n-1)), so retries spread out yet never bunch at zero.
    /// </summary>
    /// <param name="retry">1 for the first retry of this target in this request.</param>
    /// <param name="jitter">A uniform sample in [0, 1).</param>
    public static TimeSpan Delay(RetrySettings settings, int retry, double jitter)
    {
        double cap = Math.Min(settings.MaxBackoff.TotalMilliseconds, settings.Backoff.TotalMilliseconds * Math.Pow(2, Math.Clamp(retry - 1, 0, 30)));
        return TimeSpan.FromMilliseconds(cap / 2 + jitter * cap / 2);
    }

    /// <summary>
    /// The wait a provider asked for: <c>retry-after-ms</c> (OpenAI and Azure send it), else <c>Retry-After</c> in
    /// seconds or as an HTTP date. Null when there is none or it cannot be read.
    /// </summary>
    public static TimeSpan? RetryAfter(System.Net.Http.Headers.HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.FirstOrDefault(), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var millis) && millis >= 0 && millis < int.MaxValue)
            return TimeSpan.FromMilliseconds(millis);
        if (headers.RetryAfter is not { } value) return null;
        if (value.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (value.Date is { } date) return date <= now ? TimeSpan.Zero : date - now;
        return null;
    }
}
