using System.Text.RegularExpressions;

namespace Proxy.Functional.Tests.Deploy;

/// <summary>One vector selector in a PromQL expression: the metric name and its label matchers.</summary>
public sealed record Selector(string Name, IReadOnlyList<(string Label, string Op, string Value)> Matchers);

/// <summary>
/// Finds the metric names a PromQL expression (or a Grafana query using $variables) selects. Not a parser: a scanner
/// that skips what cannot be a metric name (strings, [ranges], label lists after by/without/on/ignoring/group_*,
/// numbers and durations, $variables), so that what is left and not a function call, aggregation or keyword is one.
/// A name is followed by '{', '[', whitespace, an operator, ',' or ')', so no one follower identifies it.
/// </summary>
public static partial class PromQl
{
    // Aggregations may be written "sum by (x) (...)": their name is not always followed by '('.
    private static readonly HashSet<string> Aggregations = new(StringComparer.Ordinal)
    {
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
        "limitk", "limit_ratio",
    };

    private static readonly HashSet<string> LabelListKeywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right",
    };

    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
    };

    public static IReadOnlyList<Selector> Selectors(string expr)
    {
        var found = new List<Selector>();
        int i = 0;
        while (i < expr.Length)
        {
            char c = expr[i];
            if (c is '"' or '\'' or '`') i = SkipString(expr, i);
            else if (c == '#') i = SkipTo(expr, i, '\n');
            else if (c == '[') i = SkipTo(expr, i, ']');
            else if (c == '{') i = SkipBraces(expr, i);
            else if (c == '$') i = i + 1 < expr.Length && expr[i + 1] == '{' ? SkipTo(expr, i, '}') : SkipWord(expr, i + 1);
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < expr.Length && char.IsAsciiDigit(expr[i + 1]))) i = SkipWord(expr, i);
            else if (IsNameStart(c)) i = Identifier(expr, i, found);
            else i++;
        }
        return found;
    }

    /// <summary>The metric a Grafana variable query names: the first argument of label_values(METRIC{...}, label).</summary>
    public static IReadOnlyList<Selector> VariableSelectors(string query)
    {
        var m = LabelValues().Match(query);
        return m.Success ? Selectors(m.Groups[1].Value) : [];
    }

    private static int Identifier(string expr, int start, List<Selector> found)
    {
        int end = start;
        while (end < expr.Length && (IsNameStart(expr[end]) || char.IsAsciiDigit(expr[end]))) end++;
        var word = expr[start..end];
        int next = end;
        while (next < expr.Length && char.IsWhiteSpace(expr[next])) next++;
        char follower = next < expr.Length ? expr[next] : '\0';

        if (LabelListKeywords.Contains(word)) return follower == '(' ? SkipTo(expr, next, ')') : end;
        if (Keywords.Contains(word) || Aggregations.Contains(word) || follower == '(') return end;

        var matchers = new List<(string, string, string)>();
        if (follower == '{')
        {
            int close = SkipBraces(expr, next);
            foreach (Match m in Matcher().Matches(expr[(next + 1)..(close - 1)]))
                matchers.Add((m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value));
            end = close;
        }
        found.Add(new Selector(word, matchers));
        return end;
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c is '_' or ':';

    private static int SkipWord(string s, int i)
    {
        while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '_' or '.')) i++;
        return i;
    }

    /// <summary>Index just past the next <paramref name="close"/> (ranges and label lists hold no strings that matter).</summary>
    private static int SkipTo(string s, int i, char close)
    {
        int at = s.IndexOf(close, i + 1);
        return at < 0 ? s.Length : at + 1;
    }

    /// <summary>Index just past the '}' closing the '{' at <paramref name="i"/>; a '}' inside a quoted value does not close it.</summary>
    private static int SkipBraces(string s, int i)
    {
        for (i++; i < s.Length; i++)
        {
            if (s[i] is '"' or '\'' or '`') i = SkipString(s, i) - 1;
            else if (s[i] == '}') return i + 1;
        }
        return s.Length;
    }

    private static int SkipString(string s, int i)
    {
        char quote = s[i];
        for (i++; i < s.Length; i++)
        {
            if (s[i] == '\\' && quote != '`') i++;
            else if (s[i] == quote) return i + 1;
        }
        return s.Length;
    }

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Matcher();

    [GeneratedRegex("""label_values\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s*,""")]
    private static partial Regex LabelValues();
}
