using System.Security.Cryptography;

namespace Proxy.Keys;

/// <summary>Makes new virtual keys: 32 random bytes, base64url, with a prefix that secret scanners can match.</summary>
public static class KeyGenerator
{
    public const string KeyPrefix = "sk-gw-";

    public static string NewKey()
    {
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        return KeyPrefix + Convert.ToBase64String(random).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
