namespace Proxy.Streaming;

/// <summary>
/// Finds a top-level-looking <c>"key": value</c> in an event's JSON without parsing it, tolerant of the
/// whitespace some servers put around ':' (Python's json.dumps writes <c>"choices": []</c>). Only events
/// that pass this cheap scan are parsed properly.
/// </summary>
public static class JsonScan
{
    /// <summary>Index of the first byte of the value of <paramref name="quotedKey"/> (e.g. <c>"usage"</c>u8), or -1.</summary>
    public static int ValueOf(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedKey)
    {
        int from = 0;
        while (true)
        {
            int at = json[from..].IndexOf(quotedKey);
            if (at < 0) return -1;
            at += from;
            from = at + quotedKey.Length;
            // Inside a string value the quote would be escaped (\"usage\"), so this is text, not a key.
            if (at > 0 && json[at - 1] == '\\') continue;
            int i = SkipSpace(json, from);
            if (i >= json.Length || json[i] != ':') continue;
            i = SkipSpace(json, i + 1);
            if (i < json.Length) return i;
        }
    }

    /// <summary>True when <paramref name="quotedKey"/> holds a value starting with <paramref name="first"/> ('{', '[').</summary>
    public static bool HasValueStartingWith(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedKey, byte first)
    {
        int i = ValueOf(json, quotedKey);
        return i >= 0 && json[i] == first;
    }

    /// <summary>True when <paramref name="quotedKey"/> holds an empty array.</summary>
    public static bool HasEmptyArray(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedKey)
    {
        int i = ValueOf(json, quotedKey);
        if (i < 0 || json[i] != '[') return false;
        i = SkipSpace(json, i + 1);
        return i < json.Length && json[i] == ']';
    }

    private static int SkipSpace(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return i;
    }
}
