using System.Diagnostics;
using Npgsql;
using Proxy.Tests.Common;

namespace Proxy.ControlPlane.Tests;

/// <summary>
/// The fixture itself: a real server that answers, databases that do not share data, and outages that behave like
/// the real ones (a shutdown keeps the data, a hang times out, a crash recovers). The outage tests start their own
/// server, as any test that stops one must.
/// </summary>
public sealed class PostgresServerTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task The_shared_server_answers_on_its_port()
    {
        Assert.True(fixture.Server.Port > 0);
        Assert.Contains($"Port={fixture.Server.Port}", fixture.Server.ConnectionString, StringComparison.Ordinal);
        var version = (string)(await Scalar(fixture.Server.ConnectionString, "SELECT version()"))!;
        Assert.StartsWith("PostgreSQL", version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_created_database_is_separate()
    {
        var a = await fixture.Server.CreateDatabaseAsync();
        var b = await fixture.Server.CreateDatabaseAsync();
        Assert.NotEqual(Database(a), Database(b));

        await Execute(a, "CREATE TABLE items (id int); INSERT INTO items VALUES (1)");
        Assert.Equal(1L, await Scalar(a, "SELECT count(*) FROM items"));
        Assert.Null(await Scalar(b, "SELECT to_regclass('items')::text"));

        var named = await fixture.Server.CreateDatabaseAsync("named_" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(Database(named), await Scalar(named, "SELECT current_database()"));
    }

    [Fact]
    public async Task Stop_then_start_again_keeps_the_data_and_the_port()
    {
        await using var server = await PostgresServer.StartAsync();
        var db = await server.CreateDatabaseAsync();
        await Execute(db, "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2)");
        int port = server.Port;

        await server.StopAsync();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Scalar(db, "SELECT 1"));

        await server.StartAgainAsync();
        Assert.Equal(port, server.Port);
        Assert.Equal(2L, await Scalar(db, "SELECT count(*) FROM items"));
    }

    [Fact]
    public async Task A_frozen_server_times_out_and_answers_again_once_thawed()
    {
        await using var server = await PostgresServer.StartAsync();
        // One second for the query. On timeout Npgsql sends a cancel request on a second connection and waits for the
        // server to close it, bounded by the connect Timeout (twice, as measured with Npgsql 10): with the fixture's
        // Timeout=5 a query on a frozen server fails after about 11 s; with Timeout=1, after about 3 s.
        var quick = new NpgsqlConnectionStringBuilder(server.ConnectionString) { CommandTimeout = 1, Timeout = 1, CancellationTimeout = -1 }.ConnectionString;
        await using var connection = new NpgsqlConnection(quick);
        await connection.OpenAsync();

        server.Freeze();
        try
        {
            var waited = Stopwatch.StartNew();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            var e = await Assert.ThrowsAnyAsync<NpgsqlException>(() => command.ExecuteScalarAsync());
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the timeout took {waited.Elapsed}: {e}");
            Assert.IsType<TimeoutException>(e.InnerException);
            // The postmaster is frozen too: a new connection gets no answer either.
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => Scalar(quick, "SELECT 1"));
        }
        finally
        {
            server.Thaw();
        }

        Assert.Equal(1, await Scalar(quick, "SELECT 1"));
    }

    [Fact]
    public async Task A_killed_server_recovers_when_started_again()
    {
        await using var server = await PostgresServer.StartAsync();
        var db = await server.CreateDatabaseAsync();
        // A checkpoint makes the rows durable: with synchronous_commit off, a crash may lose the last commits.
        await Execute(db, "CREATE TABLE items (id int); INSERT INTO items VALUES (1)");
        await Execute(db, "CHECKPOINT");
        await using var held = new NpgsqlConnection(db);
        await held.OpenAsync();
        int pid = server.Pid;

        server.Kill();
        Assert.False(Directory.Exists($"/proc/{pid}"), "the postmaster is still alive");
        await using (var command = new NpgsqlCommand("SELECT 1", held))
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => command.ExecuteScalarAsync()); // its backend died with it
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Scalar(db, "SELECT 1"));

        await server.StartAgainAsync();
        Assert.NotEqual(pid, server.Pid);
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM items"));
    }

    private static string Database(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    private static async Task<object?> Scalar(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    private static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
