using System.Buffers;
using System.Text;

namespace Proxy.Ingress;

/// <summary>
/// Where a body stops being Unicode. Utf8JsonReader checks neither the UTF-8 inside the strings it passes nor whether
/// a \u escape pairs its surrogates, and a gateway must not send on a body a provider's parser would choke on.
/// </summary>
internal static class UnicodeChecks
{
    /// <summary>
    /// Offset of the first byte that does not begin a valid UTF-8 sequence (overlong forms, encoded surrogates, stray
    /// continuation bytes, a sequence cut off at the end); -1 when all of it is valid. For the failure path: the
    /// request path asks <see cref="System.Text.Unicode.Utf8.IsValid(ReadOnlySpan{byte})"/> first, which is vectorized.
    /// </summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            int ascii = bytes[i..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
            if (ascii < 0) return -1;
            i += ascii;
            if (Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) != OperationStatus.Done) return i;
            i += consumed;
        }
        return -1;
    }

    /// <summary>
    /// Offset of the first \u escape in a JSON string's raw text (quotes excluded) that leaves a UTF-16 surrogate
    /// unpaired: a high surrogate not followed by a low surrogate escape, or a low one on its own. -1 when there is
    /// none. I-JSON (RFC 7493 §2.1) forbids them. The reader has already checked the escapes' syntax (a backslash is
    /// followed by one of <c>"\/bfnrtu</c>, and \u by four hex digits), so this only reads their values.
    /// </summary>
    public static int LoneSurrogateEscape(ReadOnlySpan<byte> raw)
    {
        int i = raw.IndexOf((byte)'\\');
        while (i >= 0)
        {
            int next = i + 2;
            if (raw[i + 1] == 'u')
            {
                next = i + 6;
                char unit = Hex4(raw.Slice(i + 2, 4));
                if (char.IsLowSurrogate(unit)) return i;
                if (char.IsHighSurrogate(unit))
                {
                    if (next + 6 > raw.Length || raw[next] != '\\' || raw[next + 1] != 'u' || !char.IsLowSurrogate(Hex4(raw.Slice(next + 2, 4))))
                        return i;
                    next += 6;
                }
            }
            int rest = raw[next..].IndexOf((byte)'\\');
            i = rest < 0 ? -1 : next + rest;
        }
        return -1;
    }

    private static char Hex4(ReadOnlySpan<byte> digits)
    {
        int value = 0;
        foreach (byte b in digits) value = (value << 4) | (b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
        return (char)value;
    }
}
