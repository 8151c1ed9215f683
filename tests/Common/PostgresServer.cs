using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Proxy.Tests.Common;

/// <summary>
/// A real PostgreSQL server (postmaster) on a free 127.0.0.1 port, in a fresh temporary cluster that is killed and
/// deleted at the end. Built for speed over durability (no fsync, no synchronous commit): nothing in it has to outlive
/// the test run. The binaries are found on PATH or under /usr/lib/postgresql/*/bin (Debian's layout, which keeps
/// initdb off PATH); .ci/install.sh installs them (apt-get install postgresql). A missing server fails the tests, never
/// skips them.
/// <para>
/// Tests share one server (see <see cref="PostgresFixture"/>) but never data: each takes its own database from
/// <see cref="CreateDatabaseAsync"/>. The outage controls (<see cref="StopAsync"/>, <see cref="Kill"/>,
/// <see cref="Freeze"/>) act on the whole server, so a test that uses them starts its own with <see cref="StartAsync"/>.
/// </para>
/// </summary>
public sealed class PostgresServer : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan InitdbTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private const int OutputLines = 300;
    private const string FolderPrefix = "proxy-pg-";
    private const string OwnerLock = "owner.lock";
    private static int s_swept;

    private readonly string _bin;
    private readonly string _root;
    private readonly string _dataDir;
    private readonly string _socketDir;

    // The server's (and initdb's) last lines, for the failure messages: bounded, since a server can log a lot.
    private readonly ConcurrentQueue<string> _output = new();
    private readonly FileStream _owner;
    private Process? _process;
    private bool _frozen;

    private PostgresServer(string bin, string root)
    {
        _bin = bin;
        _root = root;
        // Held for the server's life: it tells a later run's sweep (SweepLeftovers) that this folder is in use.
        _owner = new FileStream(Path.Combine(root, OwnerLock), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        _dataDir = Path.Combine(root, "data");
        _socketDir = Path.Combine(root, "socket");
    }

    public int Port { get; private set; }

    /// <summary>The postmaster's process id.</summary>
    public int Pid { get; private set; }

    /// <summary>The <c>postgres</c> database as superuser, default pooling; the timeouts keep a dead server from hanging a test.</summary>
    public string ConnectionString => Builder("postgres").ConnectionString;

    /// <summary>Creates a cluster in a new temporary folder and starts a server on it; waits until it accepts connections.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        // Signals, /proc and the postgres user: Linux only, like the CI and the gateway's own deployments.
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("PostgresServer runs PostgreSQL on Linux only");
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL (initdb and postgres) is neither on PATH nor under /usr/lib/postgresql/*/bin: the control plane " +
            "tests run against a real server. Install it with 'apt-get install -y postgresql' (or run 'bash .ci/install.sh', which does).");
        if (Interlocked.Exchange(ref s_swept, 1) == 0) SweepLeftovers();
        var root = Path.Combine(TempRoot(), FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var server = new PostgresServer(bin, root);
        try
        {
            await server.InitAsync().ConfigureAwait(false);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await server.LaunchAsync(FreePort()).ConfigureAwait(false);
                    return server;
                }
                catch (PortTakenException) when (attempt < 3)
                {
                    // Another process took the port between the probe and the bind: try another.
                }
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Creates an empty database (a unique name when none is given) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "test_" + Guid.NewGuid().ToString("N");
        // Unpooled: an admin connection left idle in a pool would be dead after StopAsync/Kill and fail the next call.
        var admin = Builder("postgres");
        admin.Pooling = false;
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var create = new NpgsqlCommand("CREATE DATABASE \"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"", connection);
        await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        return Builder(name).ConnectionString;
    }

    /// <summary>
    /// A fast shutdown (SIGINT): open transactions are rolled back, clients are disconnected, and everything committed is
    /// kept. Waits for the exit. Idempotent; a frozen server is thawed first, since a stopped process cannot shut down.
    /// </summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null || process.HasExited) return;
        if (_frozen) Thaw();
        Signal("INT", Pid);
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new InvalidOperationException($"postgres did not shut down within {StopTimeout.TotalSeconds}s of SIGINT: " + Output());
        }
    }

    /// <summary>After <see cref="StopAsync"/> or <see cref="Kill"/>: the same cluster on the same port, ready when this returns.</summary>
    public Task StartAgainAsync()
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException("postgres is still running: stop or kill it first");
        return LaunchAsync(Port);
    }

    /// <summary>
    /// SIGKILL to the postmaster and to its backends, and waits for the exit: a crash of the server's host. Killing only
    /// the postmaster would leave its backends behind, holding the shared memory that a restart refuses to share. Crash
    /// recovery on <see cref="StartAgainAsync"/> keeps what reached the WAL; with synchronous_commit off, the last
    /// commits (up to about half a second) may be lost, as in a real crash of such a server.
    /// </summary>
    public void Kill()
    {
        var process = _process;
        if (process is null || process.HasExited) return;
        Signal("KILL", [process.Id, .. Descendants(process.Id)]);
        _frozen = false;
        process.WaitForExit(10_000);
    }

    /// <summary>
    /// SIGSTOP to the postmaster and its backends: connections and new connects are accepted by the kernel but nothing
    /// answers (a hung database). The postmaster goes first, so it cannot fork a backend that escapes the freeze.
    /// </summary>
    public void Freeze()
    {
        if (_process is null || _process.HasExited) throw new InvalidOperationException("postgres is not running");
        Signal("STOP", Pid);
        Signal("STOP", [.. Descendants(Pid)]);
        _frozen = true;
    }

    /// <summary>SIGCONT to the postmaster and its backends: a frozen server goes on where it stopped.</summary>
    public void Thaw()
    {
        if (_process is null || _process.HasExited) return;
        Signal("CONT", [Pid, .. Descendants(Pid)]);
        _frozen = false;
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            Kill();
            _process.Dispose();
            _process = null;
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover folder is no reason to fail a test (and a later run sweeps it).
        }
        catch (UnauthorizedAccessException)
        {
        }
        _owner.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// <see cref="Dispose"/> for a process-exit handler. The test host is killed shortly after its exit handlers start,
    /// which cut a 40 MB delete short (seen here); the postmaster is killed first and synchronously, and the folder is
    /// left to an rm of its own, which outlives the host. What still escapes is swept by a later run.
    /// </summary>
    internal void DisposeAtExit()
    {
        Kill();
        try
        {
            Process.Start("rm", ["-rf", _root])?.Dispose();
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// Removes what test processes that died left behind: a process killed before its fixture's cleanup (or during it:
    /// the test host does not wait long at exit) leaves its cluster folder (~40 MB), and, when killed outright, a
    /// postmaster that runs on with no one to stop it. A folder is left over when nobody holds its owner lock (a lock
    /// goes with its process, however it dies) and it is over a minute old (so a folder that another process has just
    /// created, and not yet locked, is not taken for one).
    /// </summary>
    private static void SweepLeftovers()
    {
        var folders = new List<string>();
        foreach (var parent in new[] { Path.GetTempPath(), SharedMemory }.Distinct())
        {
            try
            {
                folders.AddRange(Directory.EnumerateDirectories(parent, FolderPrefix + "*"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        foreach (var folder in folders)
        {
            try
            {
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) < TimeSpan.FromMinutes(1)) continue;
                var lockPath = Path.Combine(folder, OwnerLock);
                if (File.Exists(lockPath))
                {
                    try
                    {
                        using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                    }
                    catch (IOException)
                    {
                        continue; // locked: its process is alive
                    }
                }
                var pidFile = Path.Combine(folder, "data", "postmaster.pid");
                if (File.Exists(pidFile)
                    && int.TryParse(File.ReadLines(pidFile).FirstOrDefault()?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && pid > 0
                    && File.Exists($"/proc/{pid}/cmdline")
                    && File.ReadAllText($"/proc/{pid}/cmdline").Contains(folder, StringComparison.Ordinal))
                {
                    // The orphaned postmaster of this folder (the command line check rules out a reused pid).
                    Signal("KILL", [pid, .. Descendants(pid)]);
                }
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or another process is sweeping it too: not ours to insist on.
            }
        }
    }

    private const string SharedMemory = "/dev/shm";

    /// <summary>
    /// Where clusters go: TMPDIR when set (someone chose), else /dev/shm when it has room, else the temp folder. A
    /// cluster is some 1,000 files: on tmpfs initdb takes ~0.5 s, on this machine's ext4 /tmp ~2 s (measured under
    /// load). "Room" is generous because Docker's default /dev/shm is 64 MB, and postgres keeps its own dynamic shared
    /// memory there too.
    /// </summary>
    private static string TempRoot()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("TMPDIR"))) return Path.GetTempPath();
        try
        {
            if (Directory.Exists(SharedMemory) && new DriveInfo(SharedMemory).AvailableFreeSpace >= 2L << 30) return SharedMemory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }
        return Path.GetTempPath();
    }

    private NpgsqlConnectionStringBuilder Builder(string database) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Timeout = 5,
        CommandTimeout = 30,
    };

    private async Task InitAsync()
    {
        Directory.CreateDirectory(_socketDir);
        if (Environment.IsPrivilegedProcess)
        {
            // initdb and postgres refuse to run as root (CI runs as root), so they run as the postgres user, which must
            // own the folders. The temporary folder is 0700: it is chowned too, or postgres could not even reach them.
            var (chown, chownOutput) = await RunAsync("chown", ["-R", "postgres:", _root], asPostgres: false).ConfigureAwait(false);
            if (chown != 0) throw new InvalidOperationException($"chown -R postgres: {_root} failed (exit {chown}): " + chownOutput);
        }
        // --no-sync and the trust authentication: a throwaway cluster on loopback. The C locale: whatever the machine's
        // LANG names may not be installed (initdb fails on it), and sorting does not depend on the machine.
        var (exit, output) = await RunAsync(Path.Combine(_bin, "initdb"),
            ["-D", _dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"], asPostgres: true).ConfigureAwait(false);
        if (exit != 0) throw new InvalidOperationException($"initdb failed (exit {exit}): " + output);
    }

    /// <summary>Starts the postmaster on <paramref name="port"/> and waits (bounded) until a connection succeeds.</summary>
    private async Task LaunchAsync(int port)
    {
        _process?.Dispose();
        _process = null;
        Port = port;
        // No durability (fsync, synchronous_commit, full_page_writes off): nothing here outlives the test run, and a
        // test then pays milliseconds, not disk flushes, per commit. Room for the pools of many tests at once.
        var process = Start(Path.Combine(_bin, "postgres"),
        [
            "-D", _dataDir, "-p", port.ToString(CultureInfo.InvariantCulture), "-k", _socketDir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200",
        ], asPostgres: true);
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Pid = process.Id;

        var probe = Builder("postgres");
        probe.Pooling = false;
        probe.Timeout = 2;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                var output = Output();
                // Only the port is worth another try; anything else (a broken cluster, a stale lock) would fail again.
                if (output.Contains("could not create any TCP/IP sockets", StringComparison.Ordinal)) throw new PortTakenException(output);
                throw new InvalidOperationException($"postgres on port {port} exited (code {process.ExitCode}) before accepting connections: " + output);
            }
            try
            {
                await using var connection = new NpgsqlConnection(probe.ConnectionString);
                await connection.OpenAsync().ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && waited.Elapsed < ReadyTimeout)
            {
                // Not listening yet, or "the database system is starting up" (crash recovery after Kill takes longer).
                await Task.Delay(50).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                Kill();
                throw new InvalidOperationException(
                    $"postgres on port {port} did not accept connections within {ReadyTimeout.TotalSeconds}s ({e.Message}): " + Output(), e);
            }
        }
    }

    private void Record(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > OutputLines) _output.TryDequeue(out _);
    }

    private string Output() => string.Join(" | ", _output);

    /// <summary>
    /// A process with redirected output; as the postgres user when we are root, through setpriv, which execs the program:
    /// the started process is the postmaster itself. Not runuser or su: they stay in between as its parent, and stop
    /// themselves when their child is stopped, so after Freeze and Thaw the wrapper was left stopped and Kill missed
    /// the postmaster (seen here).
    /// </summary>
    private static Process Start(string program, IEnumerable<string> args, bool asPostgres)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres && Environment.IsPrivilegedProcess)
        {
            if (!UserExists("postgres"))
                throw new InvalidOperationException("running as root, PostgreSQL has to run as the 'postgres' user, which does not exist (the Debian postgresql package creates it)");
            if (!OnPath("setpriv"))
                throw new InvalidOperationException("running as root, PostgreSQL is started as the 'postgres' user with setpriv, which is not on PATH (Debian: the util-linux package)");
            psi.FileName = "setpriv";
            foreach (var a in (string[])["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program]) psi.ArgumentList.Add(a);
        }
        else
        {
            psi.FileName = program;
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + program);
    }

    /// <summary>Runs a short command to its end (bounded); returns its exit code and output.</summary>
    private async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args, bool asPostgres)
    {
        using var process = Start(program, args, asPostgres);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(InitdbTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} did not finish within {InitdbTimeout.TotalSeconds}s");
        }
        var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) Record(line);
        return (process.ExitCode, output);
    }

    /// <summary>The children of <paramref name="root"/>, their children, and so on (a snapshot).</summary>
    private static List<int> Descendants(int root)
    {
        var parents = Parents();
        var found = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out int parent))
        {
            foreach (var (pid, ppid) in parents)
            {
                if (ppid != parent) continue;
                found.Add(pid);
                queue.Enqueue(pid);
            }
        }
        return found;
    }

    /// <summary>Every process with its parent, from /proc/PID/stat.</summary>
    private static List<(int Pid, int Ppid)> Parents()
    {
        var parents = new List<(int, int)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited since the listing
            }
            // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so the fields are counted after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid))
                parents.Add((pid, ppid));
        }
        return parents;
    }

    private static void Signal(string name, params int[] pids)
    {
        // Never 0 or below: kill(1) reads those as process groups, and 0 is the test host's own.
        pids = [.. pids.Where(p => p > 0)];
        if (pids.Length == 0) return;
        // A pid that has exited meanwhile (a backend) makes kill fail for that pid only, and say so on stderr: the others
        // are still signalled, and the message is read here rather than left in the test output.
        var psi = new ProcessStartInfo("kill", ["-" + name, .. pids.Select(p => p.ToString(CultureInfo.InvariantCulture))]) { RedirectStandardError = true };
        using var kill = Process.Start(psi)!;
        kill.StandardError.ReadToEnd();
        kill.WaitForExit();
    }

    /// <summary>The first folder holding both initdb and postgres: PATH, then /usr/lib/postgresql/N/bin, newest N first.</summary>
    private static string? FindBinaries()
    {
        var versioned = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
            : [];
        return PathDirectories().Concat(versioned)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")));
    }

    private static IEnumerable<string> PathDirectories() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);

    private static bool OnPath(string program) => PathDirectories().Any(d => File.Exists(Path.Combine(d, program)));

    private static bool UserExists(string user)
    {
        using var id = Process.Start(new ProcessStartInfo("id", ["-u", user]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        id.WaitForExit();
        return id.ExitCode == 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class PortTakenException(string message) : Exception(message);
}

/// <summary>
/// The test assembly's one shared server, started by the first class that uses this fixture and killed when the test
/// process exits: one cluster start per assembly rather than per class, while each test still takes its own database
/// (<see cref="PostgresServer.CreateDatabaseAsync"/>). Not for outage tests: stopping or freezing it would break every
/// other class at once; those start their own with <see cref="PostgresServer.StartAsync"/>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    // A failed start is cached too: every class then fails with the same message instead of waiting out its own start.
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartShared);

    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgresFixture is not initialized");

    public async Task InitializeAsync() => _server = await Shared.Value;

    /// <summary>Nothing: other classes may still be using the server; the process exit stops it.</summary>
    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<PostgresServer> StartShared()
    {
        var server = await PostgresServer.StartAsync().ConfigureAwait(false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAtExit();
        return server;
    }
}
