using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Proxy.ControlPlane.Usage;

/// <summary>
/// One group's sums on one day. <see cref="Group"/> is the key id, the team ("" for keys without one), the route, or,
/// grouped by day, the day itself (yyyy-MM-dd).
/// </summary>
public sealed record UsageRow(DateOnly Day, string Group, long Requests, long Errors, long InputTokens, long OutputTokens, long CachedTokens, long CostNanoUsd);

/// <summary>Reads <c>cp_usage_daily</c> back, summed per group and day.</summary>
public static class UsageQuery
{
    /// <summary>The groupings <see cref="QueryAsync"/> accepts.</summary>
    public static readonly IReadOnlyList<string> GroupBys = ["key", "team", "route", "day"];

    /// <summary>
    /// Sums per day and group (<paramref name="groupBy"/>: key, team, route or day) over the days from
    /// <paramref name="from"/> to <paramref name="to"/>, both included, of the rows matching the filters given (null: any);
    /// ordered by day, then group (ordinal).
    /// </summary>
    public static async Task<IReadOnlyList<UsageRow>> QueryAsync(NpgsqlDataSource db, string groupBy, DateOnly from, DateOnly to,
        string? keyId, string? team, string? route, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        // The column comes from this fixed list, never from the caller's text: everything else is a parameter.
        string? column = groupBy switch
        {
            "key" => "key_id",
            "team" => "team",
            "route" => "route",
            "day" => null,
            _ => throw new ArgumentException(
                $"groupBy must be one of {string.Join(", ", GroupBys)} (lower case); got '{groupBy}'", nameof(groupBy)),
        };
        if (from > to)
            throw new ArgumentException(
                $"from ({from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}) is after to ({to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})",
                nameof(from));

        string group = column ?? "''";
        var sql =
            $"SELECT day, {group}, sum(requests)::bigint, sum(errors)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint, " +
            "sum(cached_tokens)::bigint, sum(cost_nano_usd)::bigint FROM cp_usage_daily " +
            "WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR key_id = $3) AND ($4::text IS NULL OR team = $4) AND ($5::text IS NULL OR route = $5) " +
            (column is null ? "GROUP BY day ORDER BY day" : $"GROUP BY day, {column} ORDER BY day, {column} COLLATE \"C\"");

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = from });
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = to });
        cmd.Parameters.Add(Text(keyId));
        cmd.Parameters.Add(Text(team));
        cmd.Parameters.Add(Text(route));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<UsageRow>();
        while (await r.ReadAsync(ct))
        {
            var day = r.GetFieldValue<DateOnly>(0);
            rows.Add(new UsageRow(day, column is null ? day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : r.GetString(1),
                r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7)));
        }
        return rows;
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
