using System.Reflection;
using Npgsql;

namespace Proxy.ControlPlane;

/// <summary>
/// Applies the SQL migrations embedded in the binary (Migrations/NNN_name.sql), in order, each in its own transaction,
/// under a Postgres advisory lock: replicas starting together wait for one another instead of racing.
/// </summary>
public static class Migrator
{
    /// <summary>The advisory lock's key: any constant the gateway alone uses.</summary>
    private const long LockKey = 0x4C4C4D4757_0001;

    public static IReadOnlyList<(int Version, string Name, string Sql)> Embedded()
    {
        var assembly = typeof(Migrator).Assembly;
        const string prefix = "Proxy.ControlPlane.Migrations.";
        var list = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            var name = resource[prefix.Length..^4];
            int underscore = name.IndexOf('_');
            if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), out int version)) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add((version, name, reader.ReadToEnd()));
        }
        return list.OrderBy(m => m.Item1).ToList();
    }

    /// <summary>Applies what is missing; returns the names applied now (empty when the schema was current).</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource db, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await Exec(conn, "SELECT pg_advisory_lock(" + LockKey + ")", ct);
        try
        {
            await Exec(conn, "CREATE TABLE IF NOT EXISTS cp_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", ct);
            var applied = new HashSet<int>();
            await using (var cmd = new NpgsqlCommand("SELECT version FROM cp_migrations", conn))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) applied.Add(r.GetInt32(0));
            var done = new List<string>();
            foreach (var (version, name, sql) in Embedded())
            {
                if (applied.Contains(version)) continue;
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(sql, conn, tx)) await cmd.ExecuteNonQueryAsync(ct);
                await using (var cmd = new NpgsqlCommand("INSERT INTO cp_migrations (version, name) VALUES ($1, $2)", conn, tx))
                {
                    cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                done.Add(name);
            }
            return done;
        }
        finally
        {
            await Exec(conn, "SELECT pg_advisory_unlock(" + LockKey + ")", CancellationToken.None);
        }
    }

    private static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
