using System.Security.Cryptography;
using System.Text;

namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>
/// The derived signing key changes once a day (or when the secret rotates), so it is computed once and reused:
/// four HMACs saved per request. One immutable entry swapped atomically; a miss just recomputes.
/// </summary>
public sealed class SigningKeyCache
{
    internal static readonly SigningKeyCache Shared = new();

    private sealed record Entry(string Secret, string Date, string Region, string Service, byte[] Key);

    private Entry? _last;

    internal void Get(string secret, ReadOnlySpan<char> date, string region, string service, Span<byte> key)
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && ReferenceEquals(last.Secret, secret) && date.SequenceEqual(last.Date) && last.Region == region && last.Service == service)
        {
            last.Key.CopyTo(key);
            return;
        }
        Derive(secret, date, region, service, key);
        Volatile.Write(ref _last, new Entry(secret, date.ToString(), region, service, key.ToArray()));
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    internal static void Derive(string secret, ReadOnlySpan<char> date, string region, string service, Span<byte> key)
    {
        int secretMax = 4 + Encoding.UTF8.GetMaxByteCount(secret.Length);
        byte[]? rented = secretMax > 256 ? System.Buffers.ArrayPool<byte>.Shared.Rent(secretMax) : null;
        Span<byte> secretBytes = rented is null ? stackalloc byte[256] : rented;
        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        try
        {
            "AWS4"u8.CopyTo(secretBytes);
            int n = 4 + Encoding.UTF8.GetBytes(secret, secretBytes[4..]);
            HmacText(secretBytes[..n], date, a);
            HmacText(a, region, b);
            HmacText(b, service, a);
            HMACSHA256.HashData(a, "aws4_request"u8, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBytes);
            CryptographicOperations.ZeroMemory(a);
            CryptographicOperations.ZeroMemory(b);
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>HMAC-SHA256 of a short ASCII scope part (date, region, service).</summary>
    private static void HmacText(ReadOnlySpan<byte> key, ReadOnlySpan<char> text, Span<byte> destination)
    {
        Span<byte> data = stackalloc byte[128];
        if (Encoding.UTF8.GetByteCount(text) > data.Length) throw new ArgumentException($"scope part '{text}' is too long", nameof(text));
        int n = Encoding.UTF8.GetBytes(text, data);
        HMACSHA256.HashData(key, data[..n], destination);
    }
}
