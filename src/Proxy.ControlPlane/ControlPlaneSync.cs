using Microsoft.Extensions.Logging;
using Npgsql;

namespace Proxy.ControlPlane;

/// <summary>
/// Keeps this replica in step with the control plane: a connection of its own LISTENs for the NOTIFY every write sends
/// when it commits (a change is served within a second), and checks the version every poll interval as a backstop (a
/// lost notification, a listener behind a pooler). Any failure: the replica keeps serving its last snapshot, readiness
/// says the control plane is degraded, and the loop reconnects with backoff and reloads in full.
/// </summary>
public sealed partial class ControlPlaneSync(ControlPlaneStore store, ControlPlaneData data, TimeSpan pollInterval, string snapshotFile,
    Func<bool> reload, ILogger logger, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private volatile string? _problem = "not connected yet";
    private long _lastSyncTicks;

    /// <summary>Null while in step; otherwise why not (for readiness and the admin API's 503).</summary>
    public string? Problem => _problem;

    /// <summary>When this replica last confirmed it serves the database's version.</summary>
    public DateTimeOffset LastSync => new(Interlocked.Read(ref _lastSyncTicks), TimeSpan.Zero);

    /// <summary>Loads the database's objects now when their version differs from the one served; true when it reloaded.</summary>
    public async Task<bool> RefreshAsync(CancellationToken ct)
    {
        var snapshot = await store.LoadAsync(ct);
        MarkSynced();
        if (snapshot.Version == data.Version) return false;
        data.Update(snapshot);
        reload();
        Log.Loaded(logger, snapshot.Version, snapshot.Objects.Count);
        try
        {
            data.Save(snapshotFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.SnapshotNotSaved(logger, snapshotFile, e.Message);
        }
        return true;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await store.DataSource.OpenConnectionAsync(ct);
                await using (var listen = new NpgsqlCommand("LISTEN " + ControlPlaneStore.Channel, conn)) await listen.ExecuteNonQueryAsync(ct);
                // Whatever changed while this replica was not listening: a full check on every (re)connect.
                await RefreshAsync(ct);
                if (_problem is not null) Log.InStep(logger, data.Version);
                _problem = null;
                backoff = TimeSpan.FromMilliseconds(250);
                while (!ct.IsCancellationRequested)
                {
                    // Returns on a NOTIFY or after the poll interval; either way the version decides (a notification may carry an older version than one already read).
                    await conn.WaitAsync(pollInterval, ct);
                    await using var cmd = new NpgsqlCommand("SELECT version FROM cp_version WHERE id = 1", conn);
                    long version = (long)(await cmd.ExecuteScalarAsync(ct))!;
                    if (version != data.Version) await RefreshAsync(ct);
                    else MarkSynced();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var why = e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or IOException
                    ? "Postgres unreachable: " + e.Message : e.GetType().Name + ": " + e.Message;
                if (_problem != why) Log.Degraded(logger, why, data.Version);
                // A restarted server leaves the pool's idle connections dead (57P01): reconnect on fresh ones.
                store.DataSource.Clear();
                _problem = why;
                try
                {
                    await Task.Delay(backoff, _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private void MarkSynced() => Interlocked.Exchange(ref _lastSyncTicks, _time.GetUtcNow().UtcTicks);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Control plane: version {Version} loaded ({Objects} objects)")]
        public static partial void Loaded(ILogger logger, long version, int objects);

        [LoggerMessage(2, LogLevel.Warning, "Control plane degraded ({Reason}); serving the last snapshot (version {Version}) and reconnecting")]
        public static partial void Degraded(ILogger logger, string reason, long version);

        [LoggerMessage(3, LogLevel.Information, "Control plane in step again at version {Version}")]
        public static partial void InStep(ILogger logger, long version);

        [LoggerMessage(4, LogLevel.Warning, "Control plane snapshot not saved to {Path}: {Reason} (a restart during a Postgres outage would not start)")]
        public static partial void SnapshotNotSaved(ILogger logger, string path, string reason);
    }
}
