using System.Text;

namespace Proxy.Metrics;

/// <summary>Label sets rendered once, when a series is made, so a scrape copies bytes instead of formatting.</summary>
internal static class Labels
{
    /// <summary>Label value for a name the config does not know (a client cannot grow the series count).</summary>
    public const string Other = "other";

    /// <summary>Label value where there was none: no provider was called.</summary>
    public const string None = "none";

    /// <summary>Renders <c>a="x",b="y"</c> with the exposition format's escapes (backslash, quote, newline).</summary>
    public static byte[] Render(params ReadOnlySpan<(string Name, string Value)> labels)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in labels)
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(name).Append("=\"");
            foreach (var c in value)
            {
                switch (c)
                {
                    case '\\': sb.Append(@"\\"); break;
                    case '"': sb.Append("\\\""); break;
                    case '\n': sb.Append(@"\n"); break;
                    default: sb.Append(c); break;
                }
            }
            sb.Append('"');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
