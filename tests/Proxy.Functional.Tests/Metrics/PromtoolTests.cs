using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Metrics;

/// <summary>The exposition passes Prometheus' own linter after a mixed load.</summary>
public sealed class PromtoolTests
{
    /// <summary>promtool and prometheus come from the Debian package "prometheus" (.ci/install.sh installs it).</summary>
    internal static string Tool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin"))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        Assert.Fail($"{name} is not installed: apt-get install prometheus (see .ci/install.sh)");
        return "";
    }

    internal static async Task<(int Exit, string Output)> RunAsync(string tool, string args, string? stdin = null)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task PromtoolCheckMetrics_AfterMixedLoad_Passes()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 429, """{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}""");
        (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""")).Dispose();
        using (var s = await env.Gateway.PostStreamingAsync("/v1/chat/completions", """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}"""))
        {
            await s.Content.ReadAsStringAsync();
        }
        (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[]}""")).Dispose();
        (await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"nope","messages":[]}""")).Dispose();
        (await env.Gateway.PostAsync("/v1/chat/completions", "{", key: null)).Dispose();
        (await env.Gateway.PostAsync("/v1/embeddings", """{"model":"mock-gpt","input":"x"}""")).Dispose();

        using var response = await env.Gateway.GetAsync("/metrics", key: null);
        var text = await response.Content.ReadAsStringAsync();
        var (exit, output) = await RunAsync(Tool("promtool"), "check metrics", text);

        Assert.True(exit == 0, "promtool check metrics failed:\n" + output);
        Assert.Equal("", output.Trim());
    }
}
