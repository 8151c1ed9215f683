using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Host.Runtime;

namespace Proxy.Functional.Tests;

/// <summary>
/// server.max_concurrent_requests in the hosted gateway: past the cap a request gets 503 gateway_overloaded with
/// Retry-After at once, while health, readiness and metrics still answer and the admitted streams finish.
/// </summary>
public sealed class OverloadTests
{
    private static string Capped(string upstream, int cap) =>
        TestConfig.Standard(upstream).Replace("server:\n", $"server:\n  max_concurrent_requests: {cap}\n", StringComparison.Ordinal);

    [Fact]
    public async Task AtTheCap_Refuses503WithRetryAfter_ProbesStillAnswer_AdmittedStreamsComplete()
    {
        await using var env = await TestEnv.StartAsync(url => Capped(url, 2));
        var held = new HeldStreams();
        env.Upstream.Handler = held.HandleAsync;

        using var first = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Streams.Body);
        using var second = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Streams.Body);
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(200, (int)second.StatusCode);

        using var refused = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body, requestId: "req-over-1");
        var body = await Http.ReadBodyAsync(refused);
        Assert.Equal(503, (int)refused.StatusCode);
        Assert.Equal("1", Http.Header(refused, "Retry-After"));
        Assert.Equal("req-over-1", Http.Header(refused, "x-request-id"));
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("gateway_overloaded", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(2, held.Started); // the refused one never reached the upstream

        // Embeddings share the cap; unauthenticated requests are refused the same, before the key is looked at.
        using (var embeddings = await env.Gateway.PostAsync("/v1/embeddings", """{"model":"gpt-test","input":"x"}"""))
            Assert.Equal(503, (int)embeddings.StatusCode);
        using (var noKey = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body, key: null))
            Assert.Equal(503, (int)noKey.StatusCode);

        using (var health = await env.Gateway.GetAsync("/v1/health")) Assert.Equal(200, (int)health.StatusCode);
        using (var ready = await env.Gateway.GetAsync("/v1/ready")) Assert.Equal(200, (int)ready.StatusCode);
        using (var models = await env.Gateway.GetAsync("/v1/models")) Assert.Equal(200, (int)models.StatusCode);
        using (var metrics = await env.Gateway.GetAsync("/metrics", key: null))
        {
            var text = await Http.ReadBodyAsync(metrics);
            Assert.Contains("llm_gateway_requests_rejected_total{reason=\"overloaded\"} 3", text, StringComparison.Ordinal);
            Assert.Contains("llm_gateway_max_concurrent_requests 2", text, StringComparison.Ordinal);
        }

        held.Release();
        foreach (var response in new[] { first, second })
        {
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
            var events = await reader.ReadAllAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("[DONE]", events[^1]);
        }
        // The slots are free again.
        using var after = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body);
        Assert.Equal(200, (int)after.StatusCode);
        Assert.Contains("[DONE]", await Http.ReadBodyAsync(after), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReloadChangesTheCap_AndUnlimitedTurnsItOff()
    {
        await using var env = await TestEnv.StartAsync(url => Capped(url, 1));
        var held = new HeldStreams();
        env.Upstream.Handler = held.HandleAsync;
        using var first = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Streams.Body);
        using (var refused = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body)) Assert.Equal(503, (int)refused.StatusCode);

        await env.Gateway.WriteConfigAsync(Capped(env.Upstream.BaseUrl, 1).Replace("max_concurrent_requests: 1", "max_concurrent_requests: unlimited", StringComparison.Ordinal));
        await HeldStreams.WaitUntil(() => env.Gateway.App.Services.GetRequiredService<Proxy.Config.ConfigHolder>().Current.Server.MaxConcurrentRequests == 0,
            "the reload");
        using var second = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Streams.Body);
        Assert.Equal(200, (int)second.StatusCode);
        held.Release();
    }

    [Fact]
    public async Task KestrelAcceptsThroughTheGuardedTransport()
    {
        await using var env = await TestEnv.StartAsync();
        Assert.True(env.Gateway.App.Services.GetRequiredService<GuardedSocketTransport>().Bound >= 1);
        using var health = await env.Gateway.GetAsync("/v1/health");
        Assert.Equal(200, (int)health.StatusCode);
    }
}
