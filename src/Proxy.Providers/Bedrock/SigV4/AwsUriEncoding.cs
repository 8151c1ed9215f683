using System.Text;

namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>
/// SigV4's URI encoding: every byte except the unreserved characters (A-Z a-z 0-9 - _ . ~) becomes %XX with
/// upper-case hex. Applied to a path as it goes on the wire (already escaped once), it gives the "encode twice"
/// canonical URI that AWS requires for every service but S3: a Bedrock model id "a:b" travels as "a%3Ab" and is
/// signed as "a%253Ab", which is what the AWS SDKs compute for bedrock-runtime (checked against AWSSDK.Core in tests).
/// </summary>
internal static class AwsUriEncoding
{
    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    public static bool IsUnreserved(byte b) =>
        (uint)((b | 0x20) - 'a') <= 'z' - 'a' || (uint)(b - '0') <= 9 || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    /// <summary>Writes <paramref name="text"/> encoded; '/' is kept when <paramref name="keepSlash"/> (paths), encoded otherwise (query).</summary>
    public static void Write(PooledWriter output, ReadOnlySpan<char> text, bool keepSlash)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsAscii)
            {
                var b = (byte)rune.Value;
                if (IsUnreserved(b) || (keepSlash && b == '/')) output.Write(b);
                else WriteEscaped(output, b);
                continue;
            }
            int n = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++) WriteEscaped(output, utf8[i]);
        }
    }

    private static void WriteEscaped(PooledWriter output, byte b)
    {
        var span = output.GetSpan(3);
        span[0] = (byte)'%';
        span[1] = Hex[b >> 4];
        span[2] = Hex[b & 0xF];
        output.Advance(3);
    }

    /// <summary>Lower-case hex of <paramref name="bytes"/> into <paramref name="destination"/> (twice the length), as SigV4 writes hashes.</summary>
    public static void WriteLowerHex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
        for (int i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = hex[bytes[i] >> 4];
            destination[2 * i + 1] = hex[bytes[i] & 0xF];
        }
    }

    /// <summary>Percent-decoding of a query component (the canonical query re-encodes the decoded text).</summary>
    public static string Decode(ReadOnlySpan<char> component) =>
        component.Contains('%') ? Uri.UnescapeDataString(component.ToString()) : component.ToString();

    internal static string ToAscii(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);
}
