using System.Diagnostics;
using System.Text.Json;
using Proxy.Tests.Common;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// Runs a node script that drives the gateway with an official npm SDK (tests/Proxy.Functional.Tests/ClientApis/*.cjs),
/// the SDKs installed once under tests/.node/sdk-clients. The script prints one JSON line; every wait is bounded.
/// </summary>
internal static class NodeSdk
{
    private static readonly Lazy<string> Modules = new(() => NodeServer.FindOrInstallLibraries("sdk-clients", "@anthropic-ai/sdk@1", "openai@7"));

    public static async Task<JsonElement> RunAsync(string script, string scenario, string gatewayBaseUrl, string model, string key = TestKeys.All, string? argument = null)
    {
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ClientApis", script));
        psi.ArgumentList.Add(scenario);
        if (argument is not null) psi.ArgumentList.Add(argument);
        psi.Environment["NODE_PATH"] = Modules.Value;
        psi.Environment["GATEWAY_URL"] = gatewayBaseUrl;
        psi.Environment["GATEWAY_KEY"] = key;
        psi.Environment["MODEL"] = model;
        using var node = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} {scenario} did not finish within 60s: {await stderr}");
        }
        var line = (await stdout).Trim().Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (node.ExitCode != 0 || line is null) throw new InvalidOperationException($"node {script} {scenario} failed (exit {node.ExitCode}): {await stderr} {await stdout}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>The scenario's result, failing the test with the SDK's error when it threw.</summary>
    public static JsonElement Ok(JsonElement run) =>
        run.GetProperty("ok").GetBoolean() ? run.GetProperty("result") : throw new Xunit.Sdk.XunitException("the SDK threw: " + run);
}
