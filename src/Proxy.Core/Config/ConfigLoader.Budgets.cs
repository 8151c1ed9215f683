using System.Globalization;
using Proxy.Budgets;
using Proxy.Limits;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

/// <summary>The <c>budget:</c> block of a key or a team.</summary>
public sealed partial class ConfigLoader
{
    private static readonly string[] SpendBudgetFields = ["usd", "period", "soft_thresholds", "on_store_failure"];

    /// <summary>
    /// <c>budget: { usd: 50, period: month, soft_thresholds: [0.8, 0.95], on_store_failure: closed }</c>: the period is
    /// <c>day</c> or <c>month</c> (UTC calendar; the default is month) or a rolling window of whole hours or days
    /// (<c>24h</c>, <c>7d</c>); budgets fail closed unless they say otherwise.
    /// </summary>
    private static BudgetRule? ReadBudget(YamlReader r, YamlNode node, string path, BudgetScope scope, string holder)
    {
        var map = r.Mapping(node, path);
        if (map is null) return null;
        long? limit = null;
        var period = BudgetPeriod.Month;
        double[] thresholds = [];
        var mode = StoreFailureMode.Closed;
        bool valid = true;
        foreach (var (key, v, p) in r.Entries(map, path, SpendBudgetFields))
        {
            switch (key)
            {
                case "usd":
                    if (r.Number(v, p, 0, BudgetRule.MaxUsd) is not { } usd) { valid = false; break; }
                    long nano = (long)Math.Round((decimal)usd * 1_000_000_000m);
                    if (nano <= 0) { r.Error(v, p, "must be more than 0 (a budget of nothing would refuse every request)"); valid = false; }
                    else limit = nano;
                    break;
                case "period":
                    if (ReadBudgetPeriod(r, v, p) is { } read) period = read;
                    else valid = false;
                    break;
                case "soft_thresholds":
                    if (ReadThresholds(r, v, p) is { } read2) thresholds = read2;
                    else valid = false;
                    break;
                case "on_store_failure":
                    if (ReadFailureMode(r, v, p) is { } m) mode = m;
                    else valid = false;
                    break;
            }
        }
        if (limit is null)
        {
            if (valid && !map.Children.Any(e => e.Key is YamlScalarNode { Value: "usd" }))
                r.Error(map, path + ".usd", "missing: the budget in USD per period (e.g. usd: 50)");
            return null;
        }
        return valid ? new BudgetRule(scope, holder, limit.Value, period, thresholds, mode) : null;
    }

    private static BudgetPeriod? ReadBudgetPeriod(YamlReader r, YamlNode v, string p)
    {
        var s = r.String(v, p);
        if (s is null) return null;
        if (s == "day") return BudgetPeriod.Day;
        if (s == "month") return BudgetPeriod.Month;
        if (s.Length >= 2 && (s[^1] == 'd' || s[^1] == 'h')
            && int.TryParse(s.AsSpan(0, s.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            long hours = s[^1] == 'd' ? n * 24L : n;
            if (hours >= 1 && hours <= BudgetPeriod.MaxRollingHours) return BudgetPeriod.Rolling((int)hours);
            r.Error(v, p, $"a rolling window of {s} is out of range: from 1h to {BudgetPeriod.MaxRollingHours / 24}d (it is counted in hourly buckets)");
            return null;
        }
        r.Error(v, p, $"'{s}' is not a budget period; one of: day, month (UTC calendar), or a rolling window in whole hours or days (24h, 7d)");
        return null;
    }

    private static double[]? ReadThresholds(YamlReader r, YamlNode v, string p)
    {
        if (r.Sequence(v, p) is not { } seq) return null;
        var list = new List<double>(seq.Children.Count);
        bool valid = true;
        for (int i = 0; i < seq.Children.Count; i++)
        {
            var ip = $"{p}[{i}]";
            var item = seq.Children[i];
            if (r.String(item, ip) is not { } text) { valid = false; continue; }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) || !(t > 0 && t < 1))
            {
                r.Error(item, ip, $"'{text}' is not a fraction of the budget between 0 and 1 (0.8 is 80 %)");
                valid = false;
            }
            else if (list.Count > 0 && t <= list[^1])
            {
                r.Error(item, ip, $"{text} does not follow {list[^1].ToString(CultureInfo.InvariantCulture)}: list the thresholds once each, ascending");
                valid = false;
            }
            else list.Add(t);
        }
        return valid ? [.. list] : null;
    }
}
