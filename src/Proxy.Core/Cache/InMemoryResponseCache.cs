namespace Proxy.Cache;

/// <summary>
/// The embedded store: entries in this process, bounded by <paramref name="maxBytes"/> (an entry counts its value and
/// its key), the least recently used evicted first when a new one needs room. An expired entry is never returned: it is
/// dropped when it is next looked up, or evicted like any other. One lock; what it guards is a dictionary and a list.
/// </summary>
public sealed class InMemoryResponseCache(long maxBytes, TimeProvider time) : IResponseCache
{
    private sealed record Entry(string Key, byte[] Value, long ExpiresAt)
    {
        public long Size => Value.Length + Key.Length;
    }

    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);

    // Most recently used first.
    private readonly LinkedList<Entry> _order = new();
    private long _bytes;

    public string Name => "memory";

    public long MaxBytes => maxBytes;

    /// <summary>What the entries hold now, keys included.</summary>
    public long Bytes
    {
        get { lock (_entries) return _bytes; }
    }

    public int Count
    {
        get { lock (_entries) return _entries.Count; }
    }

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        long now = time.GetTimestamp();
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out var node)) return default;
            if (now >= node.Value.ExpiresAt)
            {
                Remove(node);
                return default;
            }
            if (node != _order.First)
            {
                _order.Remove(node);
                _order.AddFirst(node);
            }
            return new ValueTask<byte[]?>(node.Value.Value);
        }
    }

    public ValueTask SetAsync(string key, byte[] value, TimeSpan ttl)
    {
        var entry = new Entry(key, value, time.GetTimestamp() + (long)(ttl.TotalSeconds * time.TimestampFrequency));
        lock (_entries)
        {
            if (_entries.TryGetValue(key, out var old)) Remove(old);
            // An entry larger than the whole store would evict everything and still not fit.
            if (entry.Size > maxBytes) return default;
            while (_bytes + entry.Size > maxBytes && _order.Last is { } last) Remove(last);
            _entries[key] = _order.AddFirst(entry);
            _bytes += entry.Size;
        }
        return default;
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }
}
