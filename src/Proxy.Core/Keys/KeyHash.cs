using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Proxy.Keys;

/// <summary>
/// SHA-256 of a virtual key, as a value type so the lookup on the request path allocates nothing.
/// Plain SHA-256 (no slow KDF) is right here: keys are 256-bit random secrets, not passwords,
/// so there is nothing to brute-force, and the hash is computed on every request.
/// </summary>
public readonly record struct KeyHash(ulong A, ulong B, ulong C, ulong D)
{
    public const string Prefix = "sha256:";

    public static KeyHash Of(ReadOnlySpan<char> key)
    {
        // Keys are short; the stack buffer covers every sane one and the pool the rest.
        int max = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int n = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(utf8[..n], digest);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        return FromDigest(digest);
    }

    public static KeyHash FromDigest(ReadOnlySpan<byte> d) => new(
        BinaryPrimitives.ReadUInt64BigEndian(d),
        BinaryPrimitives.ReadUInt64BigEndian(d[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(d[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(d[24..]));

    /// <summary>Parses "sha256:&lt;64 hex digits&gt;" as written in the config file.</summary>
    public static bool TryParse(string text, out KeyHash hash)
    {
        hash = default;
        if (!text.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var hex = text.AsSpan(Prefix.Length);
        if (hex.Length != 64) return false;
        Span<byte> digest = stackalloc byte[32];
        if (Convert.FromHexString(hex, digest, out _, out int written) != OperationStatus.Done || written != 32) return false;
        hash = FromDigest(digest);
        return true;
    }

    public override string ToString()
    {
        Span<byte> d = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(d, A);
        BinaryPrimitives.WriteUInt64BigEndian(d[8..], B);
        BinaryPrimitives.WriteUInt64BigEndian(d[16..], C);
        BinaryPrimitives.WriteUInt64BigEndian(d[24..], D);
        return Prefix + Convert.ToHexStringLower(d);
    }
}
