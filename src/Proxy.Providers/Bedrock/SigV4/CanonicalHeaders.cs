using System.Buffers;
using System.Text;

namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>
/// The canonical headers block: lower-case names sorted by byte value, values trimmed with inner runs of spaces
/// collapsed, repeated names joined with ',' in the order they were given.
/// </summary>
internal static class CanonicalHeaders
{
    /// <summary>Writes "name:value\n" per distinct name; returns the signed-headers list.</summary>
    public static string Write(ReadOnlySpan<SigV4Header> headers, PooledWriter output)
    {
        var order = ArrayPool<int>.Shared.Rent(headers.Length);
        try
        {
            var indexes = order.AsSpan(0, headers.Length);
            for (int i = 0; i < indexes.Length; i++) indexes[i] = i;
            // Insertion sort: a request signs a handful of headers, and it is stable, so repeated names keep their order.
            for (int i = 1; i < indexes.Length; i++)
            {
                int current = indexes[i], j = i - 1;
                while (j >= 0 && CompareNames(headers[indexes[j]].Name, headers[current].Name) > 0)
                {
                    indexes[j + 1] = indexes[j];
                    j--;
                }
                indexes[j + 1] = current;
            }

            var signed = new StringBuilder(128);
            for (int i = 0; i < indexes.Length; i++)
            {
                var header = headers[indexes[i]];
                bool continues = i > 0 && CompareNames(headers[indexes[i - 1]].Name, header.Name) == 0;
                if (continues) output.Write((byte)',');
                else
                {
                    if (i > 0)
                    {
                        output.Write((byte)'\n');
                        signed.Append(';');
                    }
                    output.WriteLower(header.Name);
                    output.Write((byte)':');
                    AppendLower(signed, header.Name);
                }
                WriteValue(header.Value, output);
            }
            if (indexes.Length > 0) output.Write((byte)'\n');
            return signed.ToString();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>Trimmed, with every run of spaces inside collapsed to one (AWS's "Trimall").</summary>
    private static void WriteValue(ReadOnlySpan<char> value, PooledWriter output)
    {
        value = value.Trim(' ');
        while (!value.IsEmpty)
        {
            int space = value.IndexOf("  ", StringComparison.Ordinal);
            if (space < 0)
            {
                output.Write(value);
                return;
            }
            output.Write(value[..(space + 1)]);
            value = value[(space + 1)..].TrimStart(' ');
        }
    }

    /// <summary>Byte order of the lower-cased names (not OrdinalIgnoreCase, which upper-cases and so sorts '_' differently).</summary>
    private static int CompareNames(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            int d = Lower(a[i]) - Lower(b[i]);
            if (d != 0) return d;
        }
        return a.Length - b.Length;
    }

    private static char Lower(char c) => (uint)(c - 'A') <= 'Z' - 'A' ? (char)(c | 0x20) : c;

    private static void AppendLower(StringBuilder sb, string name)
    {
        foreach (var c in name) sb.Append(Lower(c));
    }
}
