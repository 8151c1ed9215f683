namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// The default store: in this process's memory, bounded by a count and a total size, each entry until its expiry.
/// Responses the gateway wrote and pointers to the provider keeping one share the bounds (they share the list).
/// When a save would pass a bound the oldest entries go first (saved longest ago; a replaced entry counts as new).
/// Expired entries are dropped when met (a lookup) and from the oldest end on each save. One lock: entries are a few
/// per conversation turn, far fewer than requests, and each operation is a dictionary lookup and a list splice.
/// </summary>
public sealed class InMemoryResponseStore : IResponseStore
{
    private readonly Dictionary<(string KeyId, string ResponseId), LinkedListNode<ResponseStoreEntry>> _byId = [];
    private readonly LinkedList<ResponseStoreEntry> _oldestFirst = new();
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private long _bytes;

    public InMemoryResponseStore(int maxCount, long maxBytes, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        MaxCount = maxCount;
        MaxBytes = maxBytes;
        _time = time ?? TimeProvider.System;
    }

    public int MaxCount { get; }

    public long MaxBytes { get; }

    public int Count
    {
        get
        {
            lock (_lock) return _byId.Count;
        }
    }

    public long Bytes
    {
        get
        {
            lock (_lock) return _bytes;
        }
    }

    public bool Save(string keyId, string responseId, byte[] inputItems, byte[] outputItems, byte[] response, DateTimeOffset expiresAt) =>
        Keep(new StoredResponse(keyId, responseId, inputItems, outputItems, response, expiresAt));

    public bool SavePassthrough(string keyId, string responseId, string provider, DateTimeOffset expiresAt) =>
        Keep(new PassthroughResponse(keyId, responseId, provider, expiresAt));

    private bool Keep(ResponseStoreEntry entry)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_byId.TryGetValue((entry.KeyId, entry.ResponseId), out var old)) Remove(old);
            if (entry.Size > MaxBytes || entry.ExpiresAt <= now) return false;
            while (_oldestFirst.First is { } first && (first.Value.ExpiresAt <= now || _byId.Count >= MaxCount || _bytes + entry.Size > MaxBytes))
                Remove(first);
            _byId[(entry.KeyId, entry.ResponseId)] = _oldestFirst.AddLast(entry);
            _bytes += entry.Size;
            return true;
        }
    }

    public StoredResponse? TryGet(string keyId, string responseId) => Live(keyId, responseId) as StoredResponse;

    public PassthroughResponse? TryGetPassthrough(string keyId, string responseId) => Live(keyId, responseId) as PassthroughResponse;

    private ResponseStoreEntry? Live(string keyId, string responseId)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue((keyId, responseId), out var node)) return null;
            if (node.Value.ExpiresAt > _time.GetUtcNow()) return node.Value;
            Remove(node);
            return null;
        }
    }

    public bool Delete(string keyId, string responseId)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue((keyId, responseId), out var node)) return false;
            bool live = node.Value.ExpiresAt > _time.GetUtcNow();
            Remove(node);
            return live;
        }
    }

    private void Remove(LinkedListNode<ResponseStoreEntry> node)
    {
        _byId.Remove((node.Value.KeyId, node.Value.ResponseId));
        _oldestFirst.Remove(node);
        _bytes -= node.Value.Size;
    }
}
