using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using Proxy.Accounting;

namespace Proxy.ControlPlane.Usage;

/// <summary>
/// Usage per UTC day, key, team and route, summed in memory from the request records and added to
/// <c>cp_usage_daily</c> in batches (<see cref="FlushAsync"/>), off the request path.
/// <para>
/// Nothing is lost and nothing is counted twice while Postgres is down or fails: a batch that did not commit goes back
/// into the pending sums (merged with what arrived meanwhile) and is written by a later flush. A batch whose COMMIT was
/// sent but not acknowledged (the connection broke in between) is never guessed at: its transaction id, read inside the
/// transaction, is looked up with <c>pg_xact_status</c>; committed, it is done; aborted, it goes back; still unknown
/// (the server is unreachable, or the commit is still in progress), it is held "in doubt" and looked up again at the
/// start of every later flush, before anything else is written.
/// </para>
/// <para>
/// Known limit: a crash of the server that loses WAL it had not flushed (synchronous_commit off, or a failover to a
/// replica that lagged) while a batch is in doubt can let a later transaction reuse that id; the batch may then be taken
/// for committed and be missing (never counted twice).
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The flush gate is a SemaphoreSlim whose wait handle is never asked for: it holds nothing to release.")]
public sealed class UsageRollup
{
    /// <summary>The pending groups above which <see cref="OverLimitAdds"/> starts counting (nothing is dropped).</summary>
    public const int DefaultSoftLimit = 100_000;

    /// <summary>Rows per INSERT statement: 10 parameters a row, well under Postgres' 65,535 per statement.</summary>
    internal const int RowsPerStatement = 1_000;

    private const string Upsert =
        "INSERT INTO cp_usage_daily (day, key_id, team, route, requests, errors, input_tokens, output_tokens, cached_tokens, cost_nano_usd) VALUES ";

    private const string OnConflict =
        " ON CONFLICT (day, key_id, team, route) DO UPDATE SET" +
        " requests = cp_usage_daily.requests + EXCLUDED.requests," +
        " errors = cp_usage_daily.errors + EXCLUDED.errors," +
        " input_tokens = cp_usage_daily.input_tokens + EXCLUDED.input_tokens," +
        " output_tokens = cp_usage_daily.output_tokens + EXCLUDED.output_tokens," +
        " cached_tokens = cp_usage_daily.cached_tokens + EXCLUDED.cached_tokens," +
        " cost_nano_usd = cp_usage_daily.cost_nano_usd + EXCLUDED.cost_nano_usd";

    private readonly NpgsqlDataSource _db;
    private readonly Func<string, string?>? _teamOfKey;

    // Add's lock: held for one dictionary update, or for the swap/merge of a whole batch by a flush.
    private readonly Lock _lock = new();
    private Dictionary<UsageGroup, UsageTotals> _pending = [];

    // One flush at a time: the in-doubt batches are read and changed by flushes only.
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly List<InDoubtBatch> _inDoubt = [];

    private long _inDoubtGroups;
    private long _flushFailures;
    private long _overLimitAdds;
    private long _abandonedGroups;

    /// <param name="db">The control plane's data source (<see cref="ControlPlaneDatabase.Create"/>), migrated.</param>
    /// <param name="teamOfKey">The team of a key id (null when it has none); records are then summed under it. Called on
    /// every <see cref="Add(RequestRecord)"/>: it must be cheap and must not throw.</param>
    /// <param name="softLimit">Pending groups above which <see cref="OverLimitAdds"/> counts the records added.</param>
    public UsageRollup(NpgsqlDataSource db, Func<string, string?>? teamOfKey = null, int softLimit = DefaultSoftLimit)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(softLimit);
        _db = db;
        _teamOfKey = teamOfKey;
        SoftLimit = softLimit;
    }

    public int SoftLimit { get; }

    /// <summary>Groups waiting to be written: the pending sums plus the batches held in doubt.</summary>
    public long Pending
    {
        get
        {
            lock (_lock) return _pending.Count + Interlocked.Read(ref _inDoubtGroups);
        }
    }

    /// <summary>Groups of batches whose commit is unknown (held, looked up again by the next flush); part of <see cref="Pending"/>.</summary>
    public long InDoubt => Interlocked.Read(ref _inDoubtGroups);

    /// <summary>Flushes that failed (the batch went back, or is held in doubt), and failed look-ups of in-doubt batches.</summary>
    public long FlushFailures => Interlocked.Read(ref _flushFailures);

    /// <summary>Records added while more than <see cref="SoftLimit"/> groups were pending (they were still summed).</summary>
    public long OverLimitAdds => Interlocked.Read(ref _overLimitAdds);

    /// <summary>
    /// Groups of in-doubt batches dropped because Postgres could no longer say whether they committed (their transaction
    /// id was too old for <c>pg_xact_status</c>): dropped, not re-added, so that nothing is ever counted twice.
    /// </summary>
    public long AbandonedGroups => Interlocked.Read(ref _abandonedGroups);

    /// <summary>Adds a record to its group: the team from the <c>teamOfKey</c> given at construction, if any.</summary>
    public void Add(RequestRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Add(record, record.KeyId is { } key && _teamOfKey is not null ? _teamOfKey(key) : null);
    }

    /// <summary>
    /// Adds a record to the group (UTC day of <see cref="RequestRecord.StartedAt"/>, key id or "", <paramref name="team"/>
    /// or "", route or ""): one request, an error when the status is 400 or more or an error class is set, its tokens and
    /// cost. Thread-safe; one short lock.
    /// </summary>
    public void Add(RequestRecord record, string? team)
    {
        ArgumentNullException.ThrowIfNull(record);
        var group = new UsageGroup(DateOnly.FromDateTime(record.StartedAt.UtcDateTime), record.KeyId ?? "", team ?? "", record.Route ?? "");
        var add = new UsageTotals(1, record.Status >= 400 || record.ErrorClass is not null ? 1 : 0,
            record.PromptTokens, record.CompletionTokens, record.CachedTokens, record.CostNanoUsd);
        lock (_lock)
        {
            ref var totals = ref CollectionsMarshal.GetValueRefOrAddDefault(_pending, group, out _);
            totals = totals.Plus(add);
            if (_pending.Count > SoftLimit) _overLimitAdds++;
        }
    }

    /// <summary>
    /// Writes the pending sums in one transaction (one batch of multi-row upserts) and returns the groups written; 0 when
    /// nothing was pending. In-doubt batches of earlier flushes are looked up first. Throws when the write failed: the
    /// batch is then pending again (or, when its commit could not be confirmed either way, held in doubt).
    /// </summary>
    public async Task<int> FlushAsync(CancellationToken ct = default)
    {
        await _flushGate.WaitAsync(ct);
        try
        {
            if (_inDoubt.Count > 0)
            {
                try
                {
                    await ResolveInDoubtAsync(ct);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref _flushFailures);
                    ForgetConnections(e);
                    throw;
                }
            }

            Dictionary<UsageGroup, UsageTotals> batch;
            lock (_lock)
            {
                if (_pending.Count == 0) return 0;
                batch = _pending;
                _pending = new Dictionary<UsageGroup, UsageTotals>(Math.Min(batch.Count, SoftLimit));
            }
            // One order for every writer (replicas included): row locks are taken in it, so two flushes cannot deadlock.
            var rows = batch.OrderBy(g => g.Key, UsageGroupComparer.Instance).ToArray();

            string? xid = null;
            bool commitSent = false;
            try
            {
                await using var conn = await _db.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand("SELECT pg_current_xact_id()::text", conn, tx))
                    xid = (string?)await cmd.ExecuteScalarAsync(ct) ?? throw new InvalidOperationException("pg_current_xact_id() returned null");
                await using (var write = Batch(conn, tx, rows)) await write.ExecuteNonQueryAsync(ct);

                // From here the transaction may commit whatever the client sees: only the server can say.
                commitSent = true;
                if (OnCommitting is { } committing) await committing();
                // Not cancelled: a commit cut short is one more batch in doubt, and a commit is quick (the command timeout bounds it).
                await tx.CommitAsync(CancellationToken.None);
                if (OnCommitted is { } committed) await committed();
                return rows.Length;
            }
            catch (Exception e) when (!commitSent)
            {
                // No COMMIT was sent: the server rolls the transaction back (or has), so the batch is simply pending again.
                Interlocked.Increment(ref _flushFailures);
                Merge(batch);
                ForgetConnections(e);
                throw;
            }
            catch (Exception e)
            {
                ForgetConnections(e);
                var status = await TryStatusAsync(xid!);
                if (status == XactStatus.Committed) return rows.Length;
                Interlocked.Increment(ref _flushFailures);
                if (status == XactStatus.Aborted)
                {
                    Merge(batch);
                }
                else
                {
                    _inDoubt.Add(new InDoubtBatch(xid!, batch));
                    Interlocked.Add(ref _inDoubtGroups, batch.Count);
                }
                throw;
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Tests: runs after the COMMIT region is entered, just before the commit is sent.</summary>
    internal Func<Task>? OnCommitting { get; set; }

    /// <summary>Tests: runs after the commit returned, still inside the region where a failure leaves the outcome to the server.</summary>
    internal Func<Task>? OnCommitted { get; set; }

    /// <summary>A copy of the pending sums (in-doubt batches not included).</summary>
    internal Dictionary<UsageGroup, UsageTotals> PendingSnapshot()
    {
        lock (_lock) return new Dictionary<UsageGroup, UsageTotals>(_pending);
    }

    private static NpgsqlBatch Batch(NpgsqlConnection conn, NpgsqlTransaction tx, KeyValuePair<UsageGroup, UsageTotals>[] rows)
    {
        var batch = new NpgsqlBatch(conn, tx);
        for (int start = 0; start < rows.Length; start += RowsPerStatement)
        {
            int count = Math.Min(RowsPerStatement, rows.Length - start);
            var sql = new StringBuilder(Upsert.Length + OnConflict.Length + count * 64).Append(Upsert);
            var cmd = new NpgsqlBatchCommand();
            for (int i = 0; i < count; i++)
            {
                if (i > 0) sql.Append(',');
                int p = i * 10;
                sql.Append('(');
                for (int c = 1; c <= 10; c++)
                {
                    if (c > 1) sql.Append(',');
                    sql.Append('$').Append((p + c).ToString(CultureInfo.InvariantCulture));
                }
                sql.Append(')');
                var (g, t) = rows[start + i];
                cmd.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = g.Day });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = g.KeyId });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = g.Team });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = g.Route });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = t.Requests });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = t.Errors });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = t.InputTokens });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = t.OutputTokens });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = t.CachedTokens });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = t.CostNanoUsd });
            }
            cmd.CommandText = sql.Append(OnConflict).ToString();
            batch.BatchCommands.Add(cmd);
        }
        return batch;
    }

    /// <summary>Looks up every in-doubt batch: committed ones are done, aborted ones pending again, unknown ones kept.</summary>
    private async Task ResolveInDoubtAsync(CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        for (int i = _inDoubt.Count - 1; i >= 0; i--)
        {
            var batch = _inDoubt[i];
            var status = await StatusAsync(conn, batch.Xid, ct);
            if (status == XactStatus.InProgress) continue;
            _inDoubt.RemoveAt(i);
            Interlocked.Add(ref _inDoubtGroups, -batch.Groups.Count);
            if (status == XactStatus.Aborted) Merge(batch.Groups);
            else if (status == XactStatus.Unknown) Interlocked.Add(ref _abandonedGroups, batch.Groups.Count);
        }
    }

    /// <summary>Right after an unacknowledged commit: the server's answer, or <see cref="XactStatus.InProgress"/> when it cannot give one now.</summary>
    private async Task<XactStatus> TryStatusAsync(string xid)
    {
        try
        {
            // Bounded by the data source's connect and command timeouts; not by the flush's token, which may be what cut the commit short.
            await using var conn = await _db.OpenConnectionAsync(CancellationToken.None);
            var status = await StatusAsync(conn, xid, CancellationToken.None);
            // Unknown right after the commit cannot be (the id is current): keep it in doubt rather than drop it.
            return status == XactStatus.Unknown ? XactStatus.InProgress : status;
        }
        catch (Exception e)
        {
            ForgetConnections(e);
            return XactStatus.InProgress;
        }
    }

    private static async Task<XactStatus> StatusAsync(NpgsqlConnection conn, string xid, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_xact_status($1::xid8)", conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = xid });
        try
        {
            return await cmd.ExecuteScalarAsync(ct) switch
            {
                "committed" => XactStatus.Committed,
                "aborted" => XactStatus.Aborted,
                "in progress" => XactStatus.InProgress,
                // Null: the id is older than the commit log the server keeps.
                _ => XactStatus.Unknown,
            };
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidParameterValue)
        {
            // "transaction ID ... is in the future": this server never assigned it (it recovered to a point before the
            // batch's transaction began), so the batch did not commit here.
            return XactStatus.Aborted;
        }
    }

    /// <summary>Adds a batch back into the pending sums.</summary>
    private void Merge(Dictionary<UsageGroup, UsageTotals> batch)
    {
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                _pending = batch;
                return;
            }
            foreach (var (group, add) in batch)
            {
                ref var totals = ref CollectionsMarshal.GetValueRefOrAddDefault(_pending, group, out _);
                totals = totals.Plus(add);
            }
        }
    }

    /// <summary>
    /// After a connection failure, the pool's idle connections are likely dead too (a restarted server): they are closed,
    /// so the next flush connects afresh instead of failing once more on a stale one.
    /// </summary>
    private void ForgetConnections(Exception e)
    {
        if (e is NpgsqlException { IsTransient: true } or IOException or TimeoutException) _db.Clear();
    }

    private enum XactStatus
    {
        Committed,
        Aborted,
        InProgress,
        Unknown,
    }

    private sealed record InDoubtBatch(string Xid, Dictionary<UsageGroup, UsageTotals> Groups);

    private sealed class UsageGroupComparer : IComparer<UsageGroup>
    {
        public static readonly UsageGroupComparer Instance = new();

        public int Compare(UsageGroup x, UsageGroup y)
        {
            int c = x.Day.CompareTo(y.Day);
            if (c == 0) c = string.CompareOrdinal(x.KeyId, y.KeyId);
            if (c == 0) c = string.CompareOrdinal(x.Team, y.Team);
            if (c == 0) c = string.CompareOrdinal(x.Route, y.Route);
            return c;
        }
    }
}

/// <summary>One row of <c>cp_usage_daily</c>: its key.</summary>
internal readonly record struct UsageGroup(DateOnly Day, string KeyId, string Team, string Route);

/// <summary>One row of <c>cp_usage_daily</c>: its sums.</summary>
internal readonly record struct UsageTotals(long Requests, long Errors, long InputTokens, long OutputTokens, long CachedTokens, long CostNanoUsd)
{
    public UsageTotals Plus(UsageTotals o) => new(Requests + o.Requests, Errors + o.Errors, InputTokens + o.InputTokens,
        OutputTokens + o.OutputTokens, CachedTokens + o.CachedTokens, CostNanoUsd + o.CostNanoUsd);
}
