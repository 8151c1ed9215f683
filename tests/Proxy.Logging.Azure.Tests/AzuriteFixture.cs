using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

using Proxy.Tests.Common;

namespace Proxy.Logging.Azure.Tests;

/// <summary>
/// A real Azurite blob service (npm, Microsoft's emulator) on a free 127.0.0.1 port with a temp data directory.
/// tests/run.sh installs it first (then everything runs offline):
///   npm install --prefix tests/.node/azurite azurite@3
/// The fixture looks for tests/.node/azurite/node_modules/.bin/azurite-blob (walking up from the test output
/// directory), or takes the path from AZURITE_BLOB_BIN, or installs it there itself (see NodeServer: locked, bounded in time).
/// </summary>
public sealed partial class Azurite : IDisposable
{
    /// <summary>The emulator's well-known development account and key (published in Microsoft's Azurite docs).</summary>
    public const string Account = "devstoreaccount1";
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string Package = "azurite@3";
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
        var bin = NodeServer.FindOrInstall(Package, "azurite-blob", "AZURITE_BLOB_BIN");
        var dataDir = Path.Combine(Path.GetTempPath(), "azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var (process, port) = NodeServer.Start(bin,
            ["--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dataDir, "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            ListeningRegex());
        return new Azurite(process, dataDir, port);
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
        NodeServer.Stop(_process);
        NodeServer.DeleteQuietly(_dataDir);
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
