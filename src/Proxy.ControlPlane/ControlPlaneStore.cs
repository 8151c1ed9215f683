using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Proxy.ControlPlane;

/// <summary>Everything a replica builds its snapshot from, at one version.</summary>
public sealed record ControlPlaneSnapshot(long Version, IReadOnlyList<ConfigObject> Objects, IReadOnlyList<AdminKey> AdminKeys);

/// <summary>An admin API key: its hash only, and a display prefix.</summary>
public sealed record AdminKey(string Id, string Hash, string Display, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>One change of a write: an object put (created or replaced) or, with a null body, deleted.</summary>
public sealed record Change(ObjectKind Kind, string Name, JsonObject? Body, string? Display = null);

/// <summary>One audit entry: secrets in before/after are masked.</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Kind, string Name, string? Before, string? After, long Version);

/// <summary>
/// The control plane's rows in Postgres. A write is one transaction: it takes the version row's lock (writers queue),
/// reads every object, lets the caller validate the whole result by the config file's rules, then writes the rows, one
/// audit entry per change, the next version, and a NOTIFY that reaches every replica when it commits.
/// </summary>
public sealed class ControlPlaneStore(NpgsqlDataSource db)
{
    public const string Channel = "proxy_config";

    public NpgsqlDataSource DataSource => db;

    public async Task<ControlPlaneSnapshot> LoadAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // One snapshot of the three tables: repeatable read sees them at one instant.
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        long version = await VersionAsync(conn, tx, forUpdate: false, ct);
        var objects = await ObjectsAsync(conn, tx, ct);
        var admins = await AdminKeysAsync(conn, tx, ct);
        await tx.CommitAsync(ct);
        return new ControlPlaneSnapshot(version, objects, admins);
    }

    public async Task<long> VersionAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await VersionAsync(conn, null, forUpdate: false, ct);
    }

    /// <summary>
    /// Applies <paramref name="changes"/> as one transaction when <paramref name="validate"/> accepts the objects they
    /// lead to (it returns null); otherwise changes nothing and returns its error. Changes that change nothing are not
    /// written, audited or versioned. Returns the version after the write.
    /// </summary>
    public async Task<(long Version, string? Error, int Written)> ApplyAsync(string actor, IReadOnlyList<Change> changes,
        Func<IReadOnlyList<ConfigObject>, string?> validate, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long version = await VersionAsync(conn, tx, forUpdate: true, ct);
        var objects = await ObjectsAsync(conn, tx, ct);
        var byKey = objects.ToDictionary(o => (o.Kind, o.Name));
        var effective = new List<(Change Change, ConfigObject? Before)>();
        foreach (var change in changes)
        {
            byKey.TryGetValue((change.Kind, change.Name), out var before);
            if (change.Body is null)
            {
                if (before is null) continue;
                byKey.Remove((change.Kind, change.Name));
            }
            else
            {
                if (before is not null && JsonNode.DeepEquals(before.Body, change.Body)) continue;
                byKey[(change.Kind, change.Name)] = new ConfigObject(change.Kind, change.Name, change.Body, (before?.Revision ?? 0) + 1, DateTimeOffset.UtcNow,
                    change.Display ?? before?.Display);
            }
            effective.Add((change, before));
        }
        if (effective.Count == 0)
        {
            await tx.RollbackAsync(ct);
            return (version, null, 0);
        }
        if (validate(byKey.Values.ToList()) is { } error)
        {
            await tx.RollbackAsync(ct);
            return (version, error, 0);
        }
        long next = version + 1;
        foreach (var (change, before) in effective)
        {
            var kind = ConfigObject.KindName(change.Kind);
            if (change.Body is null)
            {
                await Exec(conn, tx, "DELETE FROM cp_objects WHERE kind = $1 AND name = $2", ct, kind, change.Name);
                await AuditAsync(conn, tx, actor, "delete", kind, change.Name, before?.Body, null, next, ct);
            }
            else
            {
                var now = byKey[(change.Kind, change.Name)];
                await Exec(conn, tx,
                    """
                    INSERT INTO cp_objects (kind, name, body, display, revision) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (kind, name) DO UPDATE SET body = EXCLUDED.body, display = EXCLUDED.display,
                        revision = EXCLUDED.revision, updated_at = now()
                    """, ct, kind, change.Name, change.Body.ToJsonString(), now.Display, now.Revision);
                await AuditAsync(conn, tx, actor, before is null ? "create" : "update", kind, change.Name, before?.Body, change.Body, next, ct);
            }
        }
        await BumpAsync(conn, tx, next, ct);
        await tx.CommitAsync(CancellationToken.None); // once sent, a commit is waited for: an admin who hangs up must not leave unknown whether the change was made
        return (next, null, effective.Count);
    }

    public async Task<long> CreateAdminKeyAsync(string actor, string id, string hash, string display, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long next = await VersionAsync(conn, tx, forUpdate: true, ct) + 1;
        await Exec(conn, tx, "INSERT INTO cp_admin_keys (id, hash, display, created_by) VALUES ($1, $2, $3, $4)", ct, id, hash, display, actor);
        await AuditAsync(conn, tx, actor, "create", "admin_key", id, null, new JsonObject { ["display"] = display }, next, ct);
        await BumpAsync(conn, tx, next, ct);
        await tx.CommitAsync(CancellationToken.None); // once sent, a commit is waited for: an admin who hangs up must not leave unknown whether the change was made
        return next;
    }

    /// <summary>Returns false when there was no such admin key.</summary>
    public async Task<bool> DeleteAdminKeyAsync(string actor, string id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long next = await VersionAsync(conn, tx, forUpdate: true, ct) + 1;
        await using (var cmd = new NpgsqlCommand("DELETE FROM cp_admin_keys WHERE id = $1", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0) return false;
        }
        await AuditAsync(conn, tx, actor, "delete", "admin_key", id, null, null, next, ct);
        await BumpAsync(conn, tx, next, ct);
        await tx.CommitAsync(CancellationToken.None); // once sent, a commit is waited for: an admin who hangs up must not leave unknown whether the change was made
        return true;
    }

    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(int limit, long? beforeId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT id, at, actor, action, kind, name, before, after, version FROM cp_audit WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)beforeId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<AuditEntry>();
        while (await r.ReadAsync(ct))
            list.Add(new AuditEntry(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
                r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetInt64(8)));
        return list;
    }

    private static async Task AuditAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string actor, string action, string kind, string name,
        JsonNode? before, JsonNode? after, long version, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO cp_audit (actor, action, kind, name, before, after, version) VALUES ($1, $2, $3, $4, $5, $6, $7)", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = action });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)ProviderSecrets.MaskAll(before)?.ToJsonString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)ProviderSecrets.MaskAll(after)?.ToJsonString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task BumpAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long next, CancellationToken ct)
    {
        await Exec(conn, tx, "UPDATE cp_version SET version = $1 WHERE id = 1", ct, next);
        // Delivered when the transaction commits, and only then: a replica never reloads into a change that rolled back.
        await Exec(conn, tx, "SELECT pg_notify('" + Channel + "', $1)", ct, next.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<long> VersionAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, bool forUpdate, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT version FROM cp_version WHERE id = 1" + (forUpdate ? " FOR UPDATE" : ""), conn, tx);
        return (long)(await cmd.ExecuteScalarAsync(ct) ?? throw new InvalidOperationException("cp_version has no row: run 'proxy db migrate'"));
    }

    private static async Task<List<ConfigObject>> ObjectsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT kind, name, body, revision, updated_at, display FROM cp_objects ORDER BY kind, name", conn, tx);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ConfigObject>();
        while (await r.ReadAsync(ct))
        {
            if (!ConfigObject.TryParseKind(r.GetString(0), out var kind)) continue;
            var body = JsonNode.Parse(r.GetString(2)) as JsonObject ?? new JsonObject();
            list.Add(new ConfigObject(kind, r.GetString(1), body, r.GetInt64(3), r.GetFieldValue<DateTimeOffset>(4), r.IsDBNull(5) ? null : r.GetString(5)));
        }
        return list;
    }

    private static async Task<List<AdminKey>> AdminKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT id, hash, display, created_at, created_by FROM cp_admin_keys ORDER BY id", conn, tx);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<AdminKey>();
        while (await r.ReadAsync(ct)) list.Add(new AdminKey(r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetString(4)));
        return list;
    }

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args)
        {
            cmd.Parameters.Add(a switch
            {
                string s => new NpgsqlParameter<string> { TypedValue = s },
                long l => new NpgsqlParameter<long> { TypedValue = l },
                null => new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                _ => throw new ArgumentException("unsupported parameter type " + a.GetType().Name),
            });
        }
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
