using System.Buffers;

namespace Proxy.Pipeline;

/// <summary>A growable byte buffer on ArrayPool memory: request bodies and plain answers live here, never on the GC heap.</summary>
public sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _length;

    public PooledBuffer(int initialCapacity) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));

    public int Length => _length;

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    public ReadOnlySpan<byte> Span => _array.AsSpan(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    public void Write(ReadOnlySequence<byte> data)
    {
        Ensure((int)data.Length);
        data.CopyTo(_array.AsSpan(_length));
        _length += (int)data.Length;
    }

    public void Clear() => _length = 0;

    /// <summary>Drops what was written past <paramref name="length"/>.</summary>
    public void Truncate(int length) => _length = Math.Clamp(length, 0, _length);

    private void Ensure(int sizeHint)
    {
        int need = _length + Math.Max(sizeHint, 1);
        if (need <= _array.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _array.Length * 2));
        _array.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        var a = _array;
        _array = [];
        _length = 0;
        if (a.Length > 0) ArrayPool<byte>.Shared.Return(a);
    }
}
