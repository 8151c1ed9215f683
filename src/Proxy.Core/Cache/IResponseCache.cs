namespace Proxy.Cache;

/// <summary>
/// Where cached answers live: in this process (<see cref="InMemoryResponseCache"/>, the embedded default) or shared by
/// every replica (the Redis store, plugged in by name). Keys are the hex SHA-256 <see cref="CacheKey"/> makes; values
/// are the bytes <see cref="CachedAnswer"/> encodes. An entry past its time to live is never returned.
/// </summary>
public interface IResponseCache
{
    /// <summary>The name in config and metrics: <c>memory</c>, <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>The entry under <paramref name="key"/>, or null when there is none (or it expired). A remote store may throw.</summary>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken ct);

    /// <summary>Keeps <paramref name="value"/> under <paramref name="key"/> for <paramref name="ttl"/>, replacing what was there. A remote store may throw.</summary>
    ValueTask SetAsync(string key, byte[] value, TimeSpan ttl);
}
