namespace Proxy.Credentials;

/// <summary>
/// A bearer token fetched on demand, cached, and fetched again before it expires: five minutes before, or halfway
/// through the life of a token that lives less than ten minutes. At most one fetch is in flight; callers that arrive
/// meanwhile wait for it. When a refresh fails while the old token is still good, the old token is used.
/// Shared by everything that authenticates with Microsoft Entra ID (Azure OpenAI, the Azure Blob log sink).
/// </summary>
public abstract class CachedTokenSource : IDisposable
{
    /// <summary>How long before expiry a long-lived token is replaced.</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    // A token this close to expiry could lapse in flight; past it a failed refresh is an error, not a fallback.
    private static readonly TimeSpan LastUse = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Entry? _cached;
    private int _fetches;

    protected CachedTokenSource(TimeProvider time) => Time = time;

    protected TimeProvider Time { get; }

    /// <summary>Token requests sent so far (tests check the cache and the single refresh).</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    /// <summary>Where tokens come from, without query or secrets, for error messages.</summary>
    public abstract string Endpoint { get; }

    /// <summary>A token valid for a while yet; the cached one unless it is due for a refresh.</summary>
    public ValueTask<string> GetTokenAsync(CancellationToken ct)
    {
        var cached = _cached;
        return cached is not null && Time.GetUtcNow() < cached.RefreshAt ? new ValueTask<string>(cached.Token.Token) : RefreshAsync(ct);
    }

    /// <summary>When to fetch again a token obtained at <paramref name="obtained"/>.</summary>
    public static DateTimeOffset RefreshTime(DateTimeOffset obtained, DateTimeOffset expiresOn)
    {
        var life = expiresOn - obtained;
        var margin = life < 2 * RefreshMargin ? life / 2 : RefreshMargin;
        return expiresOn - (margin > TimeSpan.Zero ? margin : TimeSpan.Zero);
    }

    /// <summary>Fetches a new token; failures throw with a message that names <see cref="Endpoint"/> and never the secret.</summary>
    protected abstract Task<AccessToken> FetchAsync(CancellationToken ct);

    private async ValueTask<string> RefreshAsync(CancellationToken ct)
    {
        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Another caller may have refreshed while this one waited.
            var cached = _cached;
            if (cached is not null && Time.GetUtcNow() < cached.RefreshAt) return cached.Token.Token;
            try
            {
                Interlocked.Increment(ref _fetches);
                var obtained = Time.GetUtcNow();
                var fresh = await FetchAsync(ct).ConfigureAwait(false);
                _cached = new Entry(fresh, RefreshTime(obtained, fresh.ExpiresOn));
                return fresh.Token;
            }
            catch (Exception) when (!ct.IsCancellationRequested && cached is not null && Time.GetUtcNow() < cached.Token.ExpiresOn - LastUse)
            {
                // The endpoint hiccuped inside the refresh window: the old token is still good for a while.
                return cached.Token.Token;
            }
        }
        finally
        {
            _refresh.Release();
        }
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

    private sealed record Entry(AccessToken Token, DateTimeOffset RefreshAt);
}
