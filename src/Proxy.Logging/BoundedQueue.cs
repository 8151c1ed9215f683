using System.Runtime.InteropServices;

namespace Proxy.Logging;

/// <summary>
/// Bounded multi-producer single-consumer ring (Dmitry Vyukov's bounded queue). Producers claim a slot with
/// one CAS and never take a lock or wait: when the ring is full TryEnqueue returns false at once. Chosen over
/// a bounded Channel because its TryWrite takes a lock that request threads would contend on.
/// </summary>
internal sealed class BoundedQueue<T>
    where T : class
{
    private readonly Cell[] _cells;
    private readonly int _mask;
    private PaddedLong _enqueuePos;
    private long _dequeuePos; // Only the single consumer touches it.

    public BoundedQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        var size = (int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity));
        _cells = new Cell[size];
        _mask = size - 1;
        for (var i = 0; i < size; i++)
        {
            _cells[i].Sequence = i;
        }
    }

    public int Capacity => _cells.Length;

    /// <summary>Lock-free; false when full.</summary>
    public bool TryEnqueue(T item)
    {
        var pos = Volatile.Read(ref _enqueuePos.Value);
        while (true)
        {
            ref var cell = ref _cells[pos & _mask];
            var diff = Volatile.Read(ref cell.Sequence) - pos;
            if (diff == 0)
            {
                var seen = Interlocked.CompareExchange(ref _enqueuePos.Value, pos + 1, pos);
                if (seen == pos)
                {
                    cell.Item = item;
                    // Full fence on publish: the producer reads the consumer's wake-up flag right after, and a
                    // store-load reordering there could lose a wake-up.
                    Interlocked.Exchange(ref cell.Sequence, pos + 1);
                    return true;
                }

                pos = seen;
            }
            else if (diff < 0)
            {
                return false; // The slot still holds an item from one lap ago: full.
            }
            else
            {
                pos = Volatile.Read(ref _enqueuePos.Value); // Another producer took this slot; retry.
            }
        }
    }

    /// <summary>Single consumer only. False when empty (or when the next producer has claimed but not yet published).</summary>
    public bool TryDequeue(out T item)
    {
        var pos = _dequeuePos;
        ref var cell = ref _cells[pos & _mask];
        if (Volatile.Read(ref cell.Sequence) != pos + 1)
        {
            item = null!;
            return false;
        }

        item = cell.Item!;
        cell.Item = null; // Let the record (and its bodies) be collected.
        Volatile.Write(ref cell.Sequence, pos + _mask + 1);
        _dequeuePos = pos + 1;
        return true;
    }

    /// <summary>Single consumer only.</summary>
    public bool IsEmpty => Volatile.Read(ref _cells[_dequeuePos & _mask].Sequence) != _dequeuePos + 1;

    private struct Cell
    {
        public long Sequence;
        public T? Item;
    }
}

// Outside BoundedQueue<T>: a type nested in a generic is generic, and generics cannot have explicit layout.
// Keeps the producers' hot counter off the cache line of the array reference and the consumer's position.
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedLong
{
    [FieldOffset(64)]
    public long Value;
}
