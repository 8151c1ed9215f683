using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Proxy.Tests.Common;

/// <summary>
/// A real server from npm (s3rver, Azurite) for integration tests. It is found under its test project's gitignored
/// <c>.node/</c> folder, or installed there with npm when missing, so the README's one test command works on a
/// fresh machine. It is started on a port the OS picks (read from its own output, so there is no probe-then-bind
/// race) and stopped with its whole process tree. Every wait is bounded.
/// </summary>
internal static class NodeServer
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The tool's executable: <paramref name="envOverride"/> if set, else under the project's .node/, else installed there now.</summary>
    public static string FindOrInstall(string testProject, string package, string bin, string envOverride)
    {
        var fromEnv = Environment.GetEnvironmentVariable(envOverride);
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv)) return fromEnv;

        var project = FindProjectDirectory(testProject);
        var prefix = Path.Combine(project, ".node");
        var path = Path.Combine(prefix, "node_modules", ".bin", bin);
        if (File.Exists(path)) return path;

        var psi = new ProcessStartInfo("npm", $"install --no-audit --no-fund --prefix \"{prefix}\" {package}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var npm = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm");
        var stderr = npm.StandardError.ReadToEndAsync();
        _ = npm.StandardOutput.ReadToEndAsync();
        if (!npm.WaitForExit(InstallTimeout))
        {
            npm.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"npm install {package} did not finish within {InstallTimeout.TotalMinutes} minutes");
        }
        if (npm.ExitCode != 0 || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{package} could not be installed (npm exit {npm.ExitCode}: {stderr.Result.Trim()}). Run from the repo root: " +
                $"npm install --prefix tests/{testProject}/.node {package} (or set {envOverride} to the {bin} executable).");
        }
        return path;
    }

    /// <summary>Starts <paramref name="bin"/> and waits until it prints the port it listens on and accepts a connection.</summary>
    public static (Process Process, int Port) Start(string bin, IEnumerable<string> args, Regex listening)
    {
        var psi = new ProcessStartInfo(bin)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + bin);
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        void OnLine(string? line)
        {
            if (line is null) return;
            output.Enqueue(line);
            var m = listening.Match(line);
            if (m.Success) ready.TrySetResult(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        if (!ready.Task.Wait(StartTimeout) || process.HasExited)
        {
            Stop(process);
            throw new InvalidOperationException($"{bin} did not start within {StartTimeout.TotalSeconds}s: " + string.Join(" | ", output));
        }
        WaitForTcp(ready.Task.Result);
        return (process, ready.Task.Result);
    }

    public static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already stopped and disposed.
        }
        process.Dispose();
    }

    public static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void WaitForTcp(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
            }
        }
    }

    private static string FindProjectDirectory(string testProject)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, testProject + ".csproj"))) return dir.FullName;
            var nested = Path.Combine(dir.FullName, "tests", testProject);
            if (File.Exists(Path.Combine(nested, testProject + ".csproj"))) return nested;
        }
        throw new InvalidOperationException($"cannot find tests/{testProject} to install into");
    }
}
