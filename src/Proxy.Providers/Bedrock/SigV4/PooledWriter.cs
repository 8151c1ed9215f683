using System.Buffers;
using System.Text;

namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>A small growable byte writer on pooled memory, for building a canonical request without garbage.</summary>
internal sealed class PooledWriter(int initialCapacity) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    private int _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public Span<byte> GetSpan(int size)
    {
        if (_length + size > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_length);
    }

    public void Advance(int count) => _length += count;

    public void Write(byte b)
    {
        GetSpan(1)[0] = b;
        _length++;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>UTF-8 of <paramref name="text"/>.</summary>
    public void Write(ReadOnlySpan<char> text)
    {
        int n = Encoding.UTF8.GetBytes(text, GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        _length += n;
    }

    /// <summary>ASCII-lower-cased UTF-8 of <paramref name="text"/> (header names are ASCII tokens).</summary>
    public void WriteLower(ReadOnlySpan<char> text)
    {
        var span = GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        int n = Encoding.UTF8.GetBytes(text, span);
        for (int i = 0; i < n; i++)
        {
            if ((uint)(span[i] - 'A') <= 'Z' - 'A') span[i] |= 0x20;
        }
        _length += n;
    }

    public void Dispose()
    {
        var b = _buffer;
        _buffer = [];
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }
}
