namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// What the store keeps under a key and a response id: a response the gateway wrote (<see cref="StoredResponse"/>) or
/// a pointer to the provider that answered and keeps one (<see cref="PassthroughResponse"/>). Both share one bound and
/// one expiry, so the store's limits hold whatever mix it holds.
/// </summary>
public abstract class ResponseStoreEntry(string keyId, string responseId, DateTimeOffset expiresAt)
{
    /// <summary>The gateway key that made it: only that key may read or delete it.</summary>
    public string KeyId { get; } = keyId;

    public string ResponseId { get; } = responseId;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>Roughly what it holds in memory, for the store's byte bound.</summary>
    public abstract long Size { get; }
}
