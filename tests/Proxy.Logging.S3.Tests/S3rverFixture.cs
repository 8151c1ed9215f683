using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Amazon.S3;

namespace Proxy.Logging.S3.Tests;

/// <summary>
/// A real s3rver (npm) on a free 127.0.0.1 port with a temp data directory and the bucket "logs".
/// CI must install it first, from the repo root (one command, then everything runs offline):
///   npm install --prefix tests/Proxy.Logging.S3.Tests/.node s3rver@3
/// The fixture looks for .node/node_modules/.bin/s3rver in this project directory (walking up from the test
/// output directory), or takes the path from the S3RVER_BIN environment variable.
/// </summary>
public sealed partial class S3rver : IDisposable
{
    public const string Bucket = "logs";
    public const string Key = "S3RVER"; // s3rver's built-in access key id and secret

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _dataDir;

    private S3rver(Process process, string dataDir, int port)
    {
        _process = process;
        _dataDir = dataDir;
        Port = port;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public static S3rver Start() => Start(0, null);

    /// <summary>Stops the server and keeps its data, for outage tests; <see cref="Restart"/> brings it back.</summary>
    public void Kill() => Stop(_process);

    /// <summary>A new server on the same port with the same data; this instance no longer owns the data.</summary>
    public S3rver Restart()
    {
        Stop(_process);
        _handedOver = true;
        return Start(Port, _dataDir);
    }

    private bool _handedOver;

    private static S3rver Start(int port, string? existingDataDir)
    {
        var bin = FindBinary();
        var dataDir = existingDataDir ?? Path.Combine(Path.GetTempPath(), "s3rver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var psi = new ProcessStartInfo(bin)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // -p 0: the OS picks a free port and s3rver prints it, so there is no probe-then-bind race.
        foreach (var a in new[] { "-d", dataDir, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configure-bucket", Bucket })
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
            throw new InvalidOperationException($"s3rver ({bin}) did not start within {StartTimeout.TotalSeconds}s: " + string.Join(" | ", output));
        }

        var server = new S3rver(process, dataDir, ready.Task.Result);
        server.WaitForTcp();
        return server;
    }

    public S3SinkOptions Options(string bucket = Bucket) => new()
    {
        Bucket = bucket,
        ServiceUrl = ServiceUrl,
        ForcePathStyle = true,
        Compatibility = true,
        AccessKeyId = Key,
        SecretAccessKey = Key,
        RequestTimeout = TimeSpan.FromSeconds(5),
        MaxErrorRetry = 0,
    };

    /// <summary>A plain SDK client for reading back what the sink wrote.</summary>
    public AmazonS3Client Client() => S3LogSink.CreateClient(Options());

    public void Dispose()
    {
        Stop(_process);
        if (_handedOver) return;
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
        var fromEnv = Environment.GetEnvironmentVariable("S3RVER_BIN");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[]
            {
                Path.Combine(dir.FullName, ".node", "node_modules", ".bin", "s3rver"),
                Path.Combine(dir.FullName, "tests", "Proxy.Logging.S3.Tests", ".node", "node_modules", ".bin", "s3rver"),
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

    /// <summary>
    /// A fresh clone has no s3rver: install it once, next to this project (gitignored), so the README's one test
    /// command works on a new machine. Bounded in time; a failure says the command to run by hand.
    /// </summary>
    private static string InstallWithNpm()
    {
        var project = FindProjectDirectory();
        var prefix = Path.Combine(project, ".node");
        var psi = new ProcessStartInfo("npm", $"install --no-audit --no-fund --prefix \"{prefix}\" s3rver@3")
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
            throw new InvalidOperationException("npm install s3rver@3 did not finish within 3 minutes");
        }
        var bin = Path.Combine(prefix, "node_modules", ".bin", "s3rver");
        if (npm.ExitCode != 0 || !File.Exists(bin))
        {
            throw new InvalidOperationException(
                $"s3rver could not be installed (npm exit {npm.ExitCode}: {stderr.Result.Trim()}). Run from the repo root: " +
                "npm install --prefix tests/Proxy.Logging.S3.Tests/.node s3rver@3 (or set S3RVER_BIN to the s3rver executable).");
        }
        return bin;
    }

    private static string FindProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.Logging.S3.Tests.csproj"))) return dir.FullName;
            var nested = Path.Combine(dir.FullName, "tests", "Proxy.Logging.S3.Tests");
            if (File.Exists(Path.Combine(nested, "Proxy.Logging.S3.Tests.csproj"))) return nested;
        }
        throw new InvalidOperationException("cannot find tests/Proxy.Logging.S3.Tests to install s3rver into");
    }

    [GeneratedRegex(@"listening on [^\s:]+:(\d+)")]
    private static partial Regex ListeningRegex();
}

/// <summary>One shared s3rver for the tests that only need a healthy server.</summary>
public sealed class S3rverFixture : IDisposable
{
    public S3rverFixture() => Server = S3rver.Start();

    public S3rver Server { get; }

    public void Dispose() => Server.Dispose();
}
