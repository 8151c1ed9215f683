using System.Globalization;

namespace Proxy.Config;

/// <summary>Parses the scalar forms the config file uses: durations ("250ms", "10s", "2m") and sizes.</summary>
public static class ConfigValues
{
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var s = text.Trim();
        (string unit, double scale) = s.EndsWith("ms", StringComparison.Ordinal) ? ("ms", 1.0)
            : s.EndsWith('s') ? ("s", 1000.0)
            : s.EndsWith('m') ? ("m", 60_000.0)
            : s.EndsWith('h') ? ("h", 3_600_000.0)
            : ("", 0);
        if (unit.Length == 0) return false;
        if (!double.TryParse(s.AsSpan(0, s.Length - unit.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || double.IsInfinity(n))
            return false;
        value = TimeSpan.FromMilliseconds(n * scale);
        return true;
    }

    /// <summary>Plain bytes, or with a binary unit: "4194304", "512KiB", "4MiB".</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        long scale = 1;
        foreach (var (unit, factor) in (ReadOnlySpan<(string, long)>)[("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30)])
        {
            if (s.EndsWith(unit, StringComparison.Ordinal))
            {
                scale = factor;
                s = s[..^unit.Length].TrimEnd();
                break;
            }
        }
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > long.MaxValue / scale) return false;
        bytes = n * scale;
        return true;
    }
}
