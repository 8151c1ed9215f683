using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Proxy.Accounting;
using Proxy.ControlPlane.Usage;
using Proxy.Tests.Common;
using Xunit.Abstractions;

namespace Proxy.ControlPlane.Tests;

/// <summary>
/// Usage rollups against a real Postgres: sums in memory, upserts that add up, and no usage lost or counted twice when
/// the server goes away before, during or after a commit. The outage tests start their own server.
/// </summary>
public sealed class UsageRollupTests(PostgresFixture fixture, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    private static readonly DateOnly Day1 = new(2026, 3, 1);
    private static readonly DateOnly Day2 = new(2026, 3, 2);
    private static readonly Func<string, string?> Teams = key => key switch { "key-1" => "team-a", "key-2" => "team-a", "key-3" => "team-b", _ => null };

    [Fact]
    public async Task Add_sums_many_records_into_few_groups()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();

        for (int i = 0; i < 1000; i++)
        {
            var record = Record(i);
            rollup.Add(record);
            expected.Add(record, Teams);
        }
        // Refused before auth: no key, no route; an explicit team beats the resolver.
        var anonymous = new RequestRecord { RequestId = "r-anon", StartedAt = At(Day1), Operation = "chat.completions", Status = 401, ErrorClass = "authentication_error" };
        rollup.Add(anonymous);
        expected.Add(anonymous, Teams);
        var explicitTeam = Record(1);
        rollup.Add(explicitTeam, "team-z");
        expected.Add(explicitTeam, "team-z");

        var pending = rollup.PendingSnapshot();
        Assert.Equal(expected.Groups.Count, pending.Count);
        Assert.True(pending.Count <= 20, $"{pending.Count} groups");
        Assert.Equal(pending.Count, rollup.Pending);
        foreach (var (group, totals) in expected.Groups)
            Assert.Equal(totals, pending[group]);
        Assert.Equal(new UsageTotals(1, 1, 0, 0, 0, 0), pending[new UsageGroup(Day1, "", "", "")]);
        Assert.Equal(0, rollup.OverLimitAdds);
        Assert.Equal(0, rollup.FlushFailures);
    }

    [Fact]
    public async Task The_day_is_the_UTC_day_the_request_started()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db);
        rollup.Add(Record(1, at: new DateTimeOffset(2026, 3, 1, 23, 30, 0, TimeSpan.FromHours(-5)))); // 04:30 on 2 March in UTC
        Assert.Equal(Day2, Assert.Single(rollup.PendingSnapshot()).Key.Day);
        await rollup.FlushAsync();
        rollup.Add(Record(1, at: new DateTimeOffset(2026, 3, 2, 1, 0, 0, TimeSpan.FromHours(3))));    // 22:00 on 1 March in UTC
        Assert.Equal(Day1, Assert.Single(rollup.PendingSnapshot()).Key.Day);
        rollup.Add(Record(1, at: new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)));
        rollup.Add(Record(1, at: new DateTimeOffset(2026, 3, 1, 23, 59, 59, 999, TimeSpan.Zero)));
        Assert.Equal(3, Assert.Single(rollup.PendingSnapshot()).Value.Requests);
    }

    [Fact]
    public async Task Errors_are_statuses_from_400_and_error_classes()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db);
        rollup.Add(Record(1, status: 200));
        rollup.Add(Record(1, status: 399));
        rollup.Add(Record(1, status: 400));
        rollup.Add(Record(1, status: 503));
        rollup.Add(Record(1, status: 200, errorClass: "timeout_error")); // a stream that failed after its 200
        var totals = Assert.Single(rollup.PendingSnapshot()).Value;
        Assert.Equal(5, totals.Requests);
        Assert.Equal(3, totals.Errors);
    }

    [Fact]
    public async Task A_flush_writes_the_exact_sums()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        for (int i = 0; i < 500; i++)
        {
            var record = Record(i);
            rollup.Add(record);
            expected.Add(record, Teams);
        }

        Assert.Equal(expected.Groups.Count, await rollup.FlushAsync());
        Assert.Equal(0, rollup.Pending);
        AssertSame(expected.Groups, await Table(db));
        Assert.Equal(0, await rollup.FlushAsync()); // nothing pending: nothing written
        AssertSame(expected.Groups, await Table(db));
    }

    [Fact]
    public async Task Two_flushes_add_up()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        for (int i = 0; i < 300; i++)
        {
            var record = Record(i);
            rollup.Add(record);
            expected.Add(record, Teams);
        }
        await rollup.FlushAsync();
        for (int i = 300; i < 700; i++)
        {
            var record = Record(i, route: i % 50 == 0 ? "gpt-new" : null); // some groups new, most already in the table
            rollup.Add(record);
            expected.Add(record, Teams);
        }
        await rollup.FlushAsync();

        AssertSame(expected.Groups, await Table(db));
        Assert.Equal(700, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task A_batch_larger_than_one_statement_is_written_whole()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db);
        var expected = new Expected();
        int groups = UsageRollup.RowsPerStatement * 2 + 345;
        for (int i = 0; i < groups; i++)
        {
            var record = Record(i, key: "key-" + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture));
            rollup.Add(record);
            rollup.Add(record);
            expected.Add(record, (string?)null);
            expected.Add(record, (string?)null);
        }

        Assert.Equal(groups, await rollup.FlushAsync());
        AssertSame(expected.Groups, await Table(db));
    }

    [Fact]
    public async Task The_soft_limit_counts_but_drops_nothing()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, softLimit: 10);
        for (int i = 0; i < 15; i++) rollup.Add(Record(i, key: "k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        rollup.Add(Record(0, key: "k0")); // an existing group, still over the limit
        Assert.Equal(15, rollup.Pending);
        Assert.Equal(6, rollup.OverLimitAdds);
        Assert.Equal(15, await rollup.FlushAsync());
        Assert.Equal(16, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task A_stopped_server_fails_the_flush_keeps_the_sums_and_the_next_flush_writes_them_once()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var db = await NewDatabase(server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        Add(rollup, expected, 0, 200);
        Assert.True(await rollup.FlushAsync() > 0);

        Add(rollup, expected, 200, 400);
        long pending = rollup.Pending;
        Assert.True(pending > 0);
        await server.StopAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => rollup.FlushAsync());
        Assert.Equal(pending, rollup.Pending);
        Assert.Equal(1, rollup.FlushFailures);
        await Assert.ThrowsAnyAsync<Exception>(() => rollup.FlushAsync()); // still down: still kept
        Assert.Equal(pending, rollup.Pending);
        Assert.Equal(2, rollup.FlushFailures);

        Add(rollup, expected, 400, 450, route: "gpt-outage"); // arrives during the outage: merged with what went back
        await server.StartAgainAsync();

        Assert.True(await rollup.FlushAsync() > 0);
        Assert.Equal(0, rollup.Pending);
        Assert.Equal(0, rollup.InDoubt);
        AssertSame(expected.Groups, await Table(db));
        Assert.Equal(450, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task A_server_stopped_in_the_middle_of_flushes_loses_nothing_and_counts_nothing_twice()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var db = await NewDatabase(server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        Add(rollup, expected, 0, 100);
        await rollup.FlushAsync();

        // The stop lands wherever the frozen flush happens to be: before its insert, between insert and commit, in the commit.
        for (int round = 0; round < 4; round++)
        {
            Add(rollup, expected, 1000 * (round + 1), 1000 * (round + 1) + 150);
            server.Freeze();
            var flush = rollup.FlushAsync();
            await Task.Delay(50 * round + 100);
            await server.StopAsync(); // thaws, then a fast shutdown
            try
            {
                await flush;
                output.WriteLine($"round {round}: the flush committed before the shutdown");
            }
            catch (Exception e)
            {
                // Either outcome is fine; the totals below are what counts.
                output.WriteLine($"round {round}: the flush failed ({e.GetType().Name}: {e.Message}); {rollup.InDoubt} groups in doubt");
            }
            Add(rollup, expected, 1000 * (round + 1) + 150, 1000 * (round + 1) + 200);
            await server.StartAgainAsync();
            await FlushUntilEmpty(rollup);
            AssertSame(expected.Groups, await Table(db));
        }
        Assert.Equal(100 + 4 * 200, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task A_commit_that_reports_a_failure_but_committed_is_not_written_again()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        Add(rollup, expected, 0, 200);
        int groups = expected.Groups.Count;
        rollup.OnCommitted = () => throw new IOException("connection reset after the commit");

        // Postgres answers that the transaction committed: the flush succeeded.
        Assert.Equal(groups, await rollup.FlushAsync());
        rollup.OnCommitted = null;
        Assert.Equal(0, rollup.Pending);
        Assert.Equal(0, rollup.FlushFailures);
        Assert.Equal(0, await rollup.FlushAsync());
        AssertSame(expected.Groups, await Table(db));
    }

    [Fact]
    public async Task A_commit_in_doubt_while_the_server_is_down_is_resolved_as_committed_once_it_is_back()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var db = await NewDatabase(server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        Add(rollup, expected, 0, 200);
        int groups = expected.Groups.Count;
        rollup.OnCommitted = async () =>
        {
            await server.StopAsync();
            throw new IOException("connection lost after the commit");
        };

        await Assert.ThrowsAnyAsync<IOException>(() => rollup.FlushAsync());
        rollup.OnCommitted = null;
        Assert.Equal(groups, rollup.InDoubt);
        Assert.Equal(groups, rollup.Pending);
        Assert.Equal(1, rollup.FlushFailures);

        // Still down: the look-up fails, the batch stays in doubt, the new sums stay pending.
        Add(rollup, expected, 200, 260, route: "gpt-later");
        await Assert.ThrowsAnyAsync<Exception>(() => rollup.FlushAsync());
        Assert.Equal(groups, rollup.InDoubt);

        await server.StartAgainAsync();
        await rollup.FlushAsync();
        Assert.Equal(0, rollup.InDoubt);
        Assert.Equal(0, rollup.Pending);
        Assert.Equal(0, rollup.AbandonedGroups);
        AssertSame(expected.Groups, await Table(db));
        Assert.Equal(260, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task A_commit_in_doubt_that_never_reached_the_server_is_written_again_once_it_is_back()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var db = await NewDatabase(server);
        var rollup = new UsageRollup(db, Teams);
        var expected = new Expected();
        Add(rollup, expected, 0, 200);
        int groups = expected.Groups.Count;
        rollup.OnCommitting = server.StopAsync; // the insert ran; the COMMIT goes to a server that is gone

        await Assert.ThrowsAnyAsync<Exception>(() => rollup.FlushAsync());
        rollup.OnCommitting = null;
        Assert.Equal(groups, rollup.InDoubt);
        Assert.Equal(groups, rollup.Pending);

        await server.StartAgainAsync();
        Assert.Equal(groups, await rollup.FlushAsync()); // aborted: pending again, and written by this same flush
        Assert.Equal(0, rollup.Pending);
        AssertSame(expected.Groups, await Table(db));
        Assert.Equal(200, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task Adds_from_8_threads_during_flushes_give_exact_totals()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        const int threads = 8, perThread = 20_000, slices = 4;
        int flushes = 0;
        using var stop = new CancellationTokenSource();
        var flusher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await rollup.FlushAsync();
                Interlocked.Increment(ref flushes);
                await Task.Delay(2);
            }
        });
        using var start = new Barrier(threads);
        var adders = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (int slice = 0; slice < slices; slice++)
            {
                // However slow the machine, flushes run between the slices: each slice waits for one more flush to end.
                while (Volatile.Read(ref flushes) < slice) Thread.Sleep(1);
                for (int i = slice * perThread / slices; i < (slice + 1) * perThread / slices; i++) rollup.Add(Record(t * perThread + i));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(adders);
        await stop.CancelAsync();
        await flusher;
        await rollup.FlushAsync();

        var expected = new Expected();
        for (int i = 0; i < threads * perThread; i++) expected.Add(Record(i), Teams);
        Assert.True(flushes >= slices - 1, $"{flushes} flushes");
        Assert.Equal(0, rollup.Pending);
        Assert.Equal(0, rollup.FlushFailures);
        AssertSame(expected.Groups, await Table(db));
        Assert.Equal(threads * perThread, (await Sums(db)).Requests);
    }

    [Fact]
    public async Task QueryAsync_sums_per_group_and_day()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        // key-1 and key-2 in team-a, key-3 in team-b, key-4 in none; two routes; two days, and one day outside the range.
        void Put(string key, string route, DateOnly day, int count, long cost)
        {
            for (int i = 0; i < count; i++)
                rollup.Add(new RequestRecord
                {
                    RequestId = "q", StartedAt = At(day), Operation = "chat.completions", KeyId = key, Route = route,
                    Status = i == 0 ? 500 : 200, PromptTokens = 10, CompletionTokens = 5, CachedTokens = 1, CostNanoUsd = cost,
                });
        }
        Put("key-1", "gpt-a", Day1, 3, 100);
        Put("key-2", "gpt-a", Day1, 2, 1000);
        Put("key-2", "gpt-b", Day2, 4, 10);
        Put("key-3", "gpt-b", Day1, 1, 7);
        Put("key-4", "gpt-a", Day2, 5, 1);
        Put("key-1", "gpt-a", Day2.AddDays(1), 9, 9);
        await rollup.FlushAsync();

        var byKey = await UsageQuery.QueryAsync(db, "key", Day1, Day2, null, null, null, CancellationToken.None);
        Assert.Equal(
            [
                new UsageRow(Day1, "key-1", 3, 1, 30, 15, 3, 300),
                new UsageRow(Day1, "key-2", 2, 1, 20, 10, 2, 2000),
                new UsageRow(Day1, "key-3", 1, 1, 10, 5, 1, 7),
                new UsageRow(Day2, "key-2", 4, 1, 40, 20, 4, 40),
                new UsageRow(Day2, "key-4", 5, 1, 50, 25, 5, 5),
            ], byKey);

        var byTeam = await UsageQuery.QueryAsync(db, "team", Day1, Day2, null, null, null, CancellationToken.None);
        Assert.Equal(
            [
                new UsageRow(Day1, "team-a", 5, 2, 50, 25, 5, 2300),
                new UsageRow(Day1, "team-b", 1, 1, 10, 5, 1, 7),
                new UsageRow(Day2, "", 5, 1, 50, 25, 5, 5),
                new UsageRow(Day2, "team-a", 4, 1, 40, 20, 4, 40),
            ], byTeam);

        var byRoute = await UsageQuery.QueryAsync(db, "route", Day1, Day2.AddDays(1), null, "team-a", null, CancellationToken.None);
        Assert.Equal(
            [
                new UsageRow(Day1, "gpt-a", 5, 2, 50, 25, 5, 2300),
                new UsageRow(Day2, "gpt-b", 4, 1, 40, 20, 4, 40),
                new UsageRow(Day2.AddDays(1), "gpt-a", 9, 1, 90, 45, 9, 81),
            ], byRoute);

        var byDay = await UsageQuery.QueryAsync(db, "day", Day1, Day2, null, null, "gpt-a", CancellationToken.None);
        Assert.Equal(
            [
                new UsageRow(Day1, "2026-03-01", 5, 2, 50, 25, 5, 2300),
                new UsageRow(Day2, "2026-03-02", 5, 1, 50, 25, 5, 5),
            ], byDay);

        var oneKey = await UsageQuery.QueryAsync(db, "route", Day1, Day1, "key-2", null, null, CancellationToken.None);
        Assert.Equal([new UsageRow(Day1, "gpt-a", 2, 1, 20, 10, 2, 2000)], oneKey);

        Assert.Empty(await UsageQuery.QueryAsync(db, "key", Day1, Day2, "key-1", "team-b", null, CancellationToken.None));
        Assert.Empty(await UsageQuery.QueryAsync(db, "key", Day1, Day2, "'; DROP TABLE cp_usage_daily; --", null, null, CancellationToken.None));
        Assert.Equal(5, (await UsageQuery.QueryAsync(db, "key", Day1, Day2, null, null, null, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task QueryAsync_rejects_an_unknown_grouping_and_a_reversed_range()
    {
        await using var db = await NewDatabase(fixture.Server);
        foreach (var groupBy in new[] { "model", "KEY", "", "key_id", "day; DROP TABLE cp_usage_daily" })
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => UsageQuery.QueryAsync(db, groupBy, Day1, Day2, null, null, null, CancellationToken.None));
            Assert.Equal("groupBy", e.ParamName);
            Assert.Contains($"got '{groupBy}'", e.Message, StringComparison.Ordinal);
            Assert.Contains("key, team, route, day", e.Message, StringComparison.Ordinal);
        }
        var reversed = await Assert.ThrowsAsync<ArgumentException>(() => UsageQuery.QueryAsync(db, "key", Day2, Day1, null, null, null, CancellationToken.None));
        Assert.Contains("from (2026-03-02) is after to (2026-03-01)", reversed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_writer_flushes_on_its_interval_and_once_more_when_cancelled()
    {
        await using var db = await NewDatabase(fixture.Server);
        var rollup = new UsageRollup(db, Teams);
        var writer = new UsageRollupWriter(rollup, NullLogger.Instance, TimeSpan.FromMilliseconds(50));
        var expected = new Expected();
        using var cts = new CancellationTokenSource();
        var run = writer.RunAsync(cts.Token);

        Add(rollup, expected, 0, 100);
        await WaitFor(async () => rollup.Pending == 0 && (await Sums(db)).Requests == 100);

        // A long interval: only the flush on cancellation can write these.
        var slow = new UsageRollupWriter(rollup, NullLogger.Instance, TimeSpan.FromHours(1));
        await cts.CancelAsync();
        await run;
        using var cts2 = new CancellationTokenSource();
        var slowRun = slow.RunAsync(cts2.Token);
        Add(rollup, expected, 100, 150);
        await cts2.CancelAsync();
        await slowRun;
        Assert.Equal(0, rollup.Pending);
        AssertSame(expected.Groups, await Table(db));
    }

    [Fact]
    public async Task The_writer_rides_out_an_outage_without_throwing()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var db = await NewDatabase(server);
        var rollup = new UsageRollup(db, Teams);
        var writer = new UsageRollupWriter(rollup, NullLogger.Instance, TimeSpan.FromMilliseconds(50)) { FinalFlushTimeout = TimeSpan.FromSeconds(2) };
        var expected = new Expected();
        using var cts = new CancellationTokenSource();
        var run = writer.RunAsync(cts.Token);

        await server.StopAsync();
        Add(rollup, expected, 0, 100);
        await WaitFor(() => Task.FromResult(rollup.FlushFailures >= 2));
        Assert.False(run.IsCompleted);
        Add(rollup, expected, 100, 120);
        await server.StartAgainAsync();
        await WaitFor(async () => rollup.Pending == 0 && (await Sums(db)).Requests == 120);
        AssertSame(expected.Groups, await Table(db));

        // Down at shutdown: the last flush fails within its deadline, and RunAsync still ends quietly.
        await server.StopAsync();
        Add(rollup, expected, 120, 130);
        var waited = Stopwatch.StartNew();
        await cts.CancelAsync();
        await run;
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {waited.Elapsed}");
        Assert.True(rollup.Pending > 0);
    }

    // ---- helpers ----

    private static DateTimeOffset At(DateOnly day, int minute = 0) => new(day.ToDateTime(new TimeOnly(12, minute)), TimeSpan.Zero);

    /// <summary>Record i: one of 3 keys (teams a, a, b), 2 routes and 2 days; every 7th an error; tokens and cost vary with i.</summary>
    private static RequestRecord Record(int i, string? key = null, string? route = null, DateTimeOffset? at = null, int? status = null, string? errorClass = null) => new()
    {
        RequestId = "req-" + i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        StartedAt = at ?? At(i % 2 == 0 ? Day1 : Day2, i % 60),
        Operation = "chat.completions",
        KeyId = key ?? "key-" + (1 + i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Route = route ?? (i % 5 < 2 ? "gpt-a" : "gpt-b"),
        Provider = "openai",
        UpstreamModel = "gpt-4o-mini",
        Status = status ?? (i % 7 == 0 ? 502 : 200),
        ErrorClass = errorClass ?? (i % 7 == 0 ? "upstream_error" : null),
        PromptTokens = 10 + i % 13,
        CompletionTokens = 20 + i % 5,
        CachedTokens = i % 4,
        UsageReported = true,
        CostNanoUsd = 1_000_003L * (1 + i % 11),
    };

    private static void Add(UsageRollup rollup, Expected expected, int from, int to, string? route = null)
    {
        for (int i = from; i < to; i++)
        {
            var record = Record(i, route: route);
            rollup.Add(record);
            expected.Add(record, Teams);
        }
    }

    private static async Task<NpgsqlDataSource> NewDatabase(PostgresServer server)
    {
        var db = ControlPlaneDatabase.Create(await server.CreateDatabaseAsync());
        await Migrator.MigrateAsync(db);
        return db;
    }

    /// <summary>The table as read over a new connection (the data source's pool may hold connections the server closed).</summary>
    private static async Task<Dictionary<UsageGroup, UsageTotals>> Table(NpgsqlDataSource db)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT day, key_id, team, route, requests, errors, input_tokens, output_tokens, cached_tokens, cost_nano_usd FROM cp_usage_daily", connection);
        await using var r = await command.ExecuteReaderAsync();
        var table = new Dictionary<UsageGroup, UsageTotals>();
        while (await r.ReadAsync())
            table.Add(new UsageGroup(r.GetFieldValue<DateOnly>(0), r.GetString(1), r.GetString(2), r.GetString(3)),
                new UsageTotals(r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8), r.GetInt64(9)));
        return table;
    }

    private static void AssertSame(Dictionary<UsageGroup, UsageTotals> expected, Dictionary<UsageGroup, UsageTotals> actual)
    {
        foreach (var (group, totals) in expected)
        {
            Assert.True(actual.TryGetValue(group, out var got), $"missing row {group}");
            Assert.Equal(totals, got);
        }
        foreach (var group in actual.Keys) Assert.True(expected.ContainsKey(group), $"unexpected row {group}");
    }

    private static async Task<UsageTotals> Sums(NpgsqlDataSource db)
    {
        var sum = default(UsageTotals);
        foreach (var totals in (await Table(db)).Values) sum = sum.Plus(totals);
        return sum;
    }

    private static async Task FlushUntilEmpty(UsageRollup rollup)
    {
        for (int attempt = 0; rollup.Pending > 0; attempt++)
        {
            try
            {
                await rollup.FlushAsync();
            }
            catch (Exception) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task WaitFor(Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "timed out waiting");
            await Task.Delay(20);
        }
    }

    /// <summary>The sums computed independently of the rollup.</summary>
    private sealed class Expected
    {
        public Dictionary<UsageGroup, UsageTotals> Groups { get; } = [];

        public void Add(RequestRecord r, Func<string, string?> teams) => Add(r, r.KeyId is null ? null : teams(r.KeyId));

        public void Add(RequestRecord r, string? team)
        {
            var group = new UsageGroup(DateOnly.FromDateTime(r.StartedAt.UtcDateTime), r.KeyId ?? "", team ?? "", r.Route ?? "");
            var add = new UsageTotals(1, r.Status >= 400 || r.ErrorClass is not null ? 1 : 0, r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.CostNanoUsd);
            Groups[group] = Groups.GetValueOrDefault(group).Plus(add);
        }
    }
}
