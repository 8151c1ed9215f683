using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Proxy.Tests.Common;

/// <summary>
/// A real server from npm (s3rver, Azurite) for integration tests. It is found under the repo's gitignored
/// <c>tests/.node/NAME/</c> folder (one folder per package, shared by every test assembly that uses it), or installed
/// there with npm when missing, so the README's one test command works on a fresh machine. It is started on a port
/// the OS picks (read from its own output, so there is no probe-then-bind race) and stopped with its whole process
/// tree. Every wait is bounded.
/// </summary>
internal static class NodeServer
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(3);

    // Waiting for the lock covers another process's whole install (InstallTimeout) with room to spare.
    private static readonly TimeSpan LockTimeout = InstallTimeout + TimeSpan.FromMinutes(2);

    /// <summary>
    /// The tool's executable: <paramref name="envOverride"/> if set, else under tests/.node/NAME/, else installed there now.
    /// <paramref name="package"/> is an npm spec such as <c>azurite@3</c>; NAME is the part before the version.
    /// </summary>
    public static string FindOrInstall(string package, string bin, string envOverride)
    {
        var fromEnv = Environment.GetEnvironmentVariable(envOverride);
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv)) return fromEnv;

        var name = package.Split('@')[0];
        var path = Path.Combine(Root(), name, "node_modules", ".bin", bin);
        Ensure(name, [package], path, $"(or set {envOverride} to the {bin} executable)");
        return path;
    }

    /// <summary>
    /// Libraries (client SDKs) for node scripts: installed together into tests/.node/<paramref name="folder"/>, whose
    /// node_modules is returned (a script finds them there through NODE_PATH). <paramref name="packages"/> are npm specs
    /// such as <c>@anthropic-ai/sdk@0</c>; the folder is reinstalled when any of them is missing.
    /// </summary>
    public static string FindOrInstallLibraries(string folder, params string[] packages)
    {
        var modules = Path.Combine(Root(), folder, "node_modules");
        foreach (var package in packages)
        {
            int at = package.LastIndexOf('@');
            var name = at > 0 ? package[..at] : package;
            Ensure(folder, packages, Path.Combine(modules, name, "package.json"), "");
        }
        return modules;
    }

    private static string Root() => Path.Combine(FindTestsDirectory(), ".node");

    /// <summary>Installs <paramref name="packages"/> into tests/.node/NAME unless <paramref name="marker"/> exists.</summary>
    private static void Ensure(string name, string[] packages, string marker, string hint)
    {
        if (File.Exists(marker)) return;
        var root = Root();
        var prefix = Path.Combine(root, name);

        // Several test assemblies run at once (dotnet test runs them in parallel) and more than one may need the same
        // package: two npm installs into one folder fail with ENOTEMPTY. The check and the install happen under an
        // exclusive lock on tests/.node/NAME.lock, so only one process installs and the others then find it. On Linux
        // FileShare.None takes flock(LOCK_EX), the same lock .ci/install.sh takes with flock(1).
        Directory.CreateDirectory(root);
        using var held = AcquireLock(Path.Combine(root, name + ".lock"));
        if (File.Exists(marker)) return;

        // A folder without the marker is what an interrupted install leaves; npm does not always recover from it.
        if (Directory.Exists(prefix)) Directory.Delete(prefix, recursive: true);
        Install(prefix, packages);
        if (!File.Exists(marker))
        {
            throw new InvalidOperationException(
                $"npm installed {string.Join(' ', packages)} but {marker} is missing. Run from the repo root: npm install --prefix tests/.node/{name} " +
                $"{string.Join(' ', packages)} {hint}".TrimEnd());
        }
    }

    private static FileStream AcquireLock(string lockPath)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                // Another process (or another fixture in this one) holds it: it is installing.
                Thread.Sleep(250);
            }
        }
    }

    private static void Install(string prefix, string[] packages)
    {
        var package = string.Join(' ', packages);
        var psi = new ProcessStartInfo("npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["install", "--no-audit", "--no-fund", "--prefix", prefix, .. packages]) psi.ArgumentList.Add(a);
        using var npm = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm");
        var stderr = npm.StandardError.ReadToEndAsync();
        _ = npm.StandardOutput.ReadToEndAsync();
        if (!npm.WaitForExit(InstallTimeout))
        {
            npm.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"npm install {package} did not finish within {InstallTimeout.TotalMinutes} minutes");
        }
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm install {package} failed (exit {npm.ExitCode}): {stderr.Result.Trim()}");
        }
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

    /// <summary>The repo's tests/ folder, found by walking up from the test assembly's output directory.</summary>
    private static string FindTestsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var tests = Path.Combine(dir.FullName, "tests");
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln")) && Directory.Exists(tests)) return tests;
        }
        throw new InvalidOperationException($"cannot find the repo's tests/ folder above {AppContext.BaseDirectory} to install into");
    }
}
