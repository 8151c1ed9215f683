namespace Proxy.Providers.Google;

/// <summary>An OAuth2 access token and when it stops working. Its text never goes into a string a log could print.</summary>
public sealed record AccessToken(string Value, DateTimeOffset ExpiresAt, DateTimeOffset RefreshAt)
{
    public override string ToString() => $"access token (expires {ExpiresAt:O})";
}

/// <summary>
/// Google OAuth2 access tokens, cached and refreshed before they expire, one refresh at a time: requests that arrive
/// while a refresh runs wait for it rather than starting their own. A token the upstream rejected (401) is dropped so
/// the next request fetches a new one.
/// </summary>
public abstract class AccessTokenSource(TimeProvider time) : IDisposable
{
    /// <summary>A token is refreshed this long before it expires (or halfway through its life, if that is shorter).</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile AccessToken? _cached;
    private int _fetches;

    protected TimeProvider Time { get; } = time;

    /// <summary>Tokens fetched so far (tests check the cache and the single refresh with it).</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    /// <summary>Where tokens come from, for error messages (never a secret).</summary>
    public abstract string Describe();

    public async ValueTask<string> GetTokenAsync(CancellationToken ct)
    {
        var cached = _cached;
        if (cached is not null && Time.GetUtcNow() < cached.RefreshAt) return cached.Value;

        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            cached = _cached; // another request may have refreshed while this one waited
            var now = Time.GetUtcNow();
            if (cached is not null && now < cached.RefreshAt) return cached.Value;
            Interlocked.Increment(ref _fetches);
            try
            {
                var fresh = await FetchAsync(ct).ConfigureAwait(false);
                _cached = fresh;
                return fresh.Value;
            }
            catch (GoogleAuthException) when (cached is not null && Time.GetUtcNow() < cached.ExpiresAt - TimeSpan.FromSeconds(30))
            {
                // The token endpoint hiccuped inside the refresh window; the old token still works for a while.
                return cached.Value;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Forgets <paramref name="token"/> if it is still the cached one (the upstream said it is no good).</summary>
    public void Invalidate(string token)
    {
        var cached = _cached;
        if (cached is not null && cached.Value == token) Interlocked.CompareExchange(ref _cached, null, cached);
    }

    /// <summary>Gets a new token; failures are <see cref="GoogleAuthException"/> with a message safe to show.</summary>
    protected abstract Task<AccessToken> FetchAsync(CancellationToken ct);

    /// <summary>A token valid for <paramref name="lifetime"/> from <paramref name="issued"/>, refreshed ahead of its end.</summary>
    protected static AccessToken Expiring(string value, DateTimeOffset issued, TimeSpan lifetime)
    {
        var margin = lifetime / 2 < RefreshMargin ? lifetime / 2 : RefreshMargin;
        return new AccessToken(value, issued + lifetime, issued + lifetime - margin);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) _refresh.Dispose();
    }
}

/// <summary>No access token could be had; the message says from where and why, and never holds a secret.</summary>
public sealed class GoogleAuthException : Exception
{
    public GoogleAuthException()
    {
    }

    public GoogleAuthException(string message) : base(message)
    {
    }

    public GoogleAuthException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
