using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// The gateway as its own operating-system process (the <c>proxy</c> executable built beside the tests), for what an
/// in-process host cannot show: a SIGKILL, a SIGTERM, a descriptor limit, the process-wide settings the executable
/// applies. It listens on a port the OS picks (read from Kestrel's "Now listening on" line, so there is no
/// probe-then-bind race); every line it prints is kept for the test to count. Every wait is bounded.
/// </summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatewayProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
    }

    /// <summary>e.g. http://127.0.0.1:PORT (no trailing slash, no /v1).</summary>
    public string BaseUrl { get; private set; } = "";

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Every line the process wrote to stdout and stderr so far.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>
    /// Starts <c>proxy --config <paramref name="configPath"/></c> and waits until it listens. With
    /// <paramref name="openFiles"/>, the process starts under that descriptor limit (soft and hard, through prlimit).
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string configPath, int? openFiles = null, IDictionary<string, string>? environment = null)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "proxy");
        if (!File.Exists(exe)) throw new InvalidOperationException($"the gateway executable is not at {exe}: build tests/Proxy.Functional.Tests first");
        var gatewayArgs = new[] { "--config", configPath, "--urls", "http://127.0.0.1:0" };
        var psi = openFiles is { } n
            ? new ProcessStartInfo("prlimit", [$"--nofile={n}:{n}", "--", exe, .. gatewayArgs])
            : new ProcessStartInfo(exe, gatewayArgs);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = Path.GetDirectoryName(configPath)!;
        psi.Environment[TestKeys.UpstreamSecretEnvVar] = TestKeys.UpstreamSecret;
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var gateway = new GatewayProcess(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var exited = process.WaitForExitAsync();
            var first = await Task.WhenAny(gateway._listening.Task, exited, Task.Delay(StartTimeout));
            if (first != gateway._listening.Task)
            {
                throw new InvalidOperationException((first == exited ? $"the gateway exited with {process.ExitCode}" : "the gateway did not start in time") +
                    ":\n" + string.Join('\n', gateway._output));
            }
            gateway.BaseUrl = await gateway._listening.Task;
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: no drain, no flush, nothing the process could do about it.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        Signal(9);
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod, and waits for the process to finish its shutdown.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited) Signal(15);
        await WaitForExitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
            catch (InvalidOperationException)
            {
                // It exited between the check and the kill.
            }
        }
        _process.Dispose();
    }

    private async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>Through kill(1): .NET has no API for sending a signal other than SIGKILL.</summary>
    private void Signal(int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal.ToString(System.Globalization.CultureInfo.InvariantCulture), _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
        })!;
        var error = kill.StandardError.ReadToEnd();
        kill.WaitForExit();
        if (kill.ExitCode != 0 && !_process.HasExited) throw new InvalidOperationException($"kill -s {signal} {_process.Id} failed: {error}");
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } m) _listening.TrySetResult(m.Groups[1].Value);
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s]+)")]
    private static partial Regex ListeningLine();
}
