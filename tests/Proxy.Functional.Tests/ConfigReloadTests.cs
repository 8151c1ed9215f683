using System.Diagnostics;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>The gateway picks up config file changes while running, and keeps the last good config when a change is invalid.</summary>
public sealed class ConfigReloadTests
{
    private const string NewRoute = "  fresh-model: { provider: mock, model: fresh-upstream }";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reload_NewRouteAdded_ServedWithinThreeSeconds(bool atomicReplace)
    {
        await using var env = await TestEnv.StartAsync();
        Assert.Equal(404, await StatusAsync(env, "fresh-model"));

        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl, NewRoute), atomicReplace);

        Assert.True(await EventuallyAsync(async () => await StatusAsync(env, "fresh-model") == 200, TimeSpan.FromSeconds(3)),
            "the new route was not served within 3 s of the config change");
        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"fresh-model","messages":[{"role":"user","content":"hi"}]}""");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("fresh-upstream", doc.RootElement.GetProperty("model").GetString());
        // The unchanged provider still answers after the swap.
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        Assert.Equal(200, await StatusAsync(env, "gpt-test"));
    }

    [Fact]
    public async Task Reload_InvalidConfig_KeepsServingLastGoodOne_ThenAcceptsNextGoodOne()
    {
        await using var env = await TestEnv.StartAsync();
        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl, NewRoute));
        Assert.True(await EventuallyAsync(async () => await StatusAsync(env, "fresh-model") == 200, TimeSpan.FromSeconds(3)));
        var goodVersion = await ConfigVersionAsync(env);

        // A typo in a field name and a route to a provider that does not exist.
        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl, "  broken: { provider: nowhere }\n  other: { provdier: mock }"));
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // debounce is 250 ms: the reload has been tried by now

        Assert.Equal(200, await StatusAsync(env, "fresh-model"));
        Assert.Equal(200, await StatusAsync(env, "mock-gpt"));
        Assert.Equal(goodVersion, await ConfigVersionAsync(env));

        // Garbage that is not even YAML.
        await env.Gateway.WriteConfigAsync("providers: [unclosed\n  : :");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(200, await StatusAsync(env, "fresh-model"));

        // The watcher is still alive: the next good config is taken.
        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl, "  third-model: { provider: mock }"));
        Assert.True(await EventuallyAsync(async () => await StatusAsync(env, "third-model") == 200, TimeSpan.FromSeconds(3)));
        Assert.Equal(404, await StatusAsync(env, "fresh-model"));
    }

    [Fact]
    public async Task Reload_KeyRemoved_KeyRejected()
    {
        await using var env = await TestEnv.StartAsync();
        var withoutLimited = TestConfig.Standard(env.Upstream.BaseUrl);
        withoutLimited = withoutLimited[..withoutLimited.IndexOf("  - id: limited", StringComparison.Ordinal)];

        await env.Gateway.WriteConfigAsync(withoutLimited);

        Assert.True(await EventuallyAsync(async () => await StatusAsync(env, "mock-gpt", TestKeys.Limited) == 401, TimeSpan.FromSeconds(3)));
        Assert.Equal(200, await StatusAsync(env, "mock-gpt"));
    }

    [Fact]
    public async Task Reload_ProviderCredentialChanged_UpstreamGetsNewCredential()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        Assert.Equal(200, await StatusAsync(env, "gpt-test"));

        await env.Gateway.WriteConfigAsync(TestConfig.Standard(env.Upstream.BaseUrl).Replace(
            "${" + TestKeys.UpstreamSecretEnvVar + "}", "sk-rotated-provider-key", StringComparison.Ordinal));

        Assert.True(await EventuallyAsync(async () =>
        {
            Assert.Equal(200, await StatusAsync(env, "gpt-test"));
            return env.Upstream.Requests.Last().Headers["Authorization"] == "Bearer sk-rotated-provider-key";
        }, TimeSpan.FromSeconds(3)));
    }

    private static async Task<int> StatusAsync(TestEnv env, string model, string key = TestKeys.All)
    {
        using var response = await env.Gateway.PostAsync("/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", key);
        return (int)response.StatusCode;
    }

    private static async Task<string?> ConfigVersionAsync(TestEnv env)
    {
        using var response = await env.Gateway.GetAsync("/v1/ready", key: null);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("checks").GetProperty("config").GetProperty("version").GetString();
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return await condition();
    }
}
