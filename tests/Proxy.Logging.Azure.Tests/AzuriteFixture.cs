using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Proxy.Logging.Azure.Tests;

/// <summary>
/// A real Azurite blob service (npm, Microsoft's emulator) on a free 127.0.0.1 port with a temp data directory.
/// CI may install it first, from the repo root (then everything runs offline):
///   npm install --prefix tests/Proxy.Logging.Azure.Tests/.node azurite@3
/// The fixture looks for .node/node_modules/.bin/azurite-blob in this project directory (walking up from the test
/// output directory), or takes the path from AZURITE_BLOB_BIN, or installs it there itself (bounded in time).
/// </summary>
public sealed partial class Azurite : IDisposable
{
    /// <summary>The emulator's well-known development account and key (published in Microsoft's Azurite docs).</summary>
    public const string Account = "devstoreaccount1";
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string Package = "azurite@3";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _dataDir;

    private Azurite(Process process, string dataDir, int port)
    {
        _process = process;
        _dataDir = dataDir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Path-style endpoint: the account is part of the URL.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}/{Account}";

    public static Azurite Start()
    {
        var bin = FindBinary();
        var dataDir = Path.Combine(Path.GetTempPath(), "azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var psi = new ProcessStartInfo(bin)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --blobPort 0: the OS picks a free port and Azurite prints it, so there is no probe-then-bind race.
        foreach (var a in new[] { "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dataDir, "--skipApiVersionCheck", "--loose", "--disableTelemetry" })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + bin);
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            var m = ListeningRegex().Match(line);
            if (m.Success)
            {
                ready.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (!ready.Task.Wait(StartTimeout) || process.HasExited)
        {
            Stop(process);
            throw new InvalidOperationException($"azurite-blob ({bin}) did not start within {StartTimeout.TotalSeconds}s: " + string.Join(" | ", output));
        }

        var server = new Azurite(process, dataDir, ready.Task.Result);
        server.WaitForTcp();
        return server;
    }

    public AzureBlobSinkOptions SharedKeyOptions(string container) => new()
    {
        AccountName = Account,
        Container = container,
        Endpoint = Endpoint,
        AccountKey = Key,
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    public void Dispose()
    {
        Stop(_process);
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Stop(Process process)
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
        }

        process.Dispose();
    }

    private void WaitForTcp()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
            }
        }
    }

    private static string FindBinary()
    {
        var fromEnv = Environment.GetEnvironmentVariable("AZURITE_BLOB_BIN");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[]
            {
                Path.Combine(dir.FullName, ".node", "node_modules", ".bin", "azurite-blob"),
                Path.Combine(dir.FullName, "tests", "Proxy.Logging.Azure.Tests", ".node", "node_modules", ".bin", "azurite-blob"),
            })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return InstallWithNpm();
    }

    /// <summary>A fresh clone has no Azurite: install it once, next to this project (gitignored .node/), so the
    /// one test command works on a new machine. Bounded in time; a failure says the command to run by hand.</summary>
    private static string InstallWithNpm()
    {
        var project = FindProjectDirectory();
        var prefix = Path.Combine(project, ".node");
        var psi = new ProcessStartInfo("npm", $"install --no-audit --no-fund --prefix \"{prefix}\" {Package}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var npm = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm");
        var stderr = npm.StandardError.ReadToEndAsync();
        _ = npm.StandardOutput.ReadToEndAsync();
        if (!npm.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            npm.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"npm install {Package} did not finish within 3 minutes");
        }

        var bin = Path.Combine(prefix, "node_modules", ".bin", "azurite-blob");
        if (npm.ExitCode != 0 || !File.Exists(bin))
        {
            throw new InvalidOperationException(
                $"azurite could not be installed (npm exit {npm.ExitCode}: {stderr.Result.Trim()}). Run from the repo root: " +
                $"npm install --prefix tests/Proxy.Logging.Azure.Tests/.node {Package} (or set AZURITE_BLOB_BIN to the azurite-blob executable).");
        }

        return bin;
    }

    private static string FindProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.Logging.Azure.Tests.csproj"))) return dir.FullName;
            var nested = Path.Combine(dir.FullName, "tests", "Proxy.Logging.Azure.Tests");
            if (File.Exists(Path.Combine(nested, "Proxy.Logging.Azure.Tests.csproj"))) return nested;
        }

        throw new InvalidOperationException("cannot find tests/Proxy.Logging.Azure.Tests to install azurite into");
    }

    [GeneratedRegex(@"listens on https?://[^\s:]+:(\d+)")]
    private static partial Regex ListeningRegex();
}

/// <summary>One shared Azurite for the tests.</summary>
public sealed class AzuriteFixture : IDisposable
{
    public AzuriteFixture() => Server = Azurite.Start();

    public Azurite Server { get; }

    public void Dispose() => Server.Dispose();
}
