using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Proxy.Tests.Common;
using StackExchange.Redis;

namespace Proxy.Redis.Tests;

/// <summary>
/// A real redis-server on a free 127.0.0.1 port, without persistence, stopped (killed) at the end. redis-server must be
/// on PATH: .ci/install.sh installs it (apt-get install redis-server). A missing server fails the tests, never skips them.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A configuration string for this server; admin on, for SCRIPT FLUSH and TIME.</summary>
    public string Configuration => $"127.0.0.1:{Port},allowAdmin=true";

    public static RedisServer Start(int port = 0, params string[] extraArgs)
    {
        var bin = Find() ?? throw new InvalidOperationException(
            "redis-server is not on PATH: the Redis store tests run against a real server. Install it with " +
            "'apt-get install -y redis-server' (or run 'bash .ci/install.sh', which does).");
        for (int attempt = 1; ; attempt++)
        {
            int p = port != 0 ? port : FreePort();
            try
            {
                return new RedisServer(Launch(bin, p, extraArgs), p);
            }
            catch (InvalidOperationException) when (port == 0 && attempt < 3)
            {
                // Another process took the port between the probe and the bind: try another.
            }
        }
    }

    /// <summary>Starts redis-server and waits (bounded) for "Ready to accept connections", which follows the bind.</summary>
    private static Process Launch(string bin, int port, string[] extraArgs)
    {
        var psi = new ProcessStartInfo(bin) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", .. extraArgs])
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + bin);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        void OnLine(string? line)
        {
            if (line is null) return;
            output.Enqueue(line);
            if (line.Contains("Ready to accept connections", StringComparison.Ordinal)) ready.TrySetResult();
        }

        bool started;
        try
        {
            started = ready.Task.Wait(TimeSpan.FromSeconds(20)) && !process.HasExited;
        }
        catch (AggregateException)
        {
            started = false;
        }
        if (!started)
        {
            NodeServer.Stop(process);
            throw new InvalidOperationException($"redis-server on port {port} did not start: " + string.Join(" | ", output));
        }
        return process;
    }

    public ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect(Configuration);

    public int Pid => _process.Id;

    /// <summary>SIGSTOP: the server holds its connections and answers nothing (a hung Redis).</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>SIGCONT: a frozen server goes on.</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>SIGKILL, and waits for the exit: connections are reset, the data is gone.</summary>
    public void Kill()
    {
        Signal("KILL");
        _process.WaitForExit(10_000);
    }

    private void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public void Dispose() => NodeServer.Stop(_process);

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, "redis-server");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One server and one connection for a test class.</summary>
public sealed class RedisFixture : IDisposable
{
    public RedisFixture()
    {
        Server = RedisServer.Start();
        Redis = Server.Connect();
    }

    public RedisServer Server { get; }

    public ConnectionMultiplexer Redis { get; }

    public IDatabase Db => Redis.GetDatabase();

    public IServer Admin => Redis.GetServer(Redis.GetEndPoints()[0]);

    /// <summary>Redis's clock (what the scripts read).</summary>
    public async Task<DateTimeOffset> TimeAsync() => new(DateTime.SpecifyKind(await Admin.TimeAsync(), DateTimeKind.Utc));

    public void Dispose()
    {
        Redis.Dispose();
        Server.Dispose();
    }
}
