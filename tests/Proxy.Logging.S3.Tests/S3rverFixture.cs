using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Amazon.S3;

using Proxy.Tests.Common;

namespace Proxy.Logging.S3.Tests;

/// <summary>
/// A real s3rver (npm) on a free 127.0.0.1 port with a temp data directory and the bucket "logs".
/// tests/run.sh installs it first (then everything runs offline):
///   npm install --prefix tests/.node/s3rver s3rver@3
/// The fixture looks for tests/.node/s3rver/node_modules/.bin/s3rver (walking up from the test output directory),
/// or takes the path from the S3RVER_BIN environment variable, or installs it there itself (see NodeServer).
/// </summary>
public sealed partial class S3rver : IDisposable
{
    public const string Bucket = "logs";
    public const string Key = "S3RVER"; // s3rver's built-in access key id and secret

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
    public void Kill() => NodeServer.Stop(_process);

    /// <summary>SIGSTOP: the server keeps its port and the kernel keeps accepting connections, but nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>SIGCONT after <see cref="Freeze"/>: the server answers again, the requests that waited included.</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        // Through kill(1): .NET has no API for sending a signal other than SIGKILL.
        using var kill = Process.Start("kill", ["-s", signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (!kill.WaitForExit(10_000) || kill.ExitCode != 0) throw new InvalidOperationException($"kill -s {signal} {_process.Id} failed");
    }

    /// <summary>A new server on the same port with the same data; this instance no longer owns the data.</summary>
    public S3rver Restart()
    {
        NodeServer.Stop(_process);
        _handedOver = true;
        return Start(Port, _dataDir);
    }

    private bool _handedOver;

    private static S3rver Start(int port, string? existingDataDir)
    {
        var bin = NodeServer.FindOrInstall("s3rver@3", "s3rver", "S3RVER_BIN");
        var dataDir = existingDataDir ?? Path.Combine(Path.GetTempPath(), "s3rver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var (process, actualPort) = NodeServer.Start(bin,
            ["-d", dataDir, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configure-bucket", Bucket],
            ListeningRegex());
        return new S3rver(process, dataDir, actualPort);
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
        NodeServer.Stop(_process);
        if (!_handedOver) NodeServer.DeleteQuietly(_dataDir);
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
