using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>GET /v1/models, /v1/models/{id}, /v1/health, /v1/ready.</summary>
public sealed class ModelsAndHealthTests
{
    public const string SlashRoute = "  \"meta-llama/Llama-3-8B\": { provider: mock }";

    [Fact]
    public async Task Models_KeyAll_ListsEveryRouteSorted()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/models");

        Assert.Equal(200, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        var models = doc.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["gpt-test", "mock-gpt", "same-name"], models.Select(m => m.GetProperty("id").GetString()));
        Assert.All(models, m => Assert.Equal("model", m.GetProperty("object").GetString()));
        Assert.Equal("up", models[0].GetProperty("owned_by").GetString());
        Assert.Equal("mock", models[1].GetProperty("owned_by").GetString());
    }

    [Fact]
    public async Task Models_KeyLimited_ListsOnlyAllowedRoutes()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/models", key: TestKeys.Limited);

        Assert.Equal(200, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["mock-gpt"], doc.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Models_NoKey_401()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/models", key: null);

        await Assertions.AssertOpenAiError(response, 401, "authentication_error", code: "missing_api_key");
    }

    [Fact]
    public async Task ModelGet_AllowedRoute_ReturnsModel()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/models/mock-gpt", key: TestKeys.Limited);

        Assert.Equal(200, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("mock-gpt", doc.RootElement.GetProperty("id").GetString());
        Assert.Equal("model", doc.RootElement.GetProperty("object").GetString());
    }

    [Fact]
    public async Task ModelGet_RouteNotAllowedForKey_404()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/models/gpt-test", key: TestKeys.Limited);

        await Assertions.AssertOpenAiError(response, 404, "not_found_error", code: "model_not_found", param: "model", messageContains: "'gpt-test'");
    }

    [Fact]
    public async Task ModelGet_RouteNameWithSlash_Found()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, SlashRoute));

        using var raw = await env.Gateway.GetAsync("/v1/models/meta-llama/Llama-3-8B");
        using var chat = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"meta-llama/Llama-3-8B","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, (int)chat.StatusCode);
        Assert.Equal(200, (int)raw.StatusCode);
        using var doc = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        Assert.Equal("meta-llama/Llama-3-8B", doc.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task ModelGet_RouteNameWithPercentEncodedSlash_Found()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, SlashRoute));

        using var escaped = await env.Gateway.GetAsync("/v1/models/meta-llama%2FLlama-3-8B");

        Assert.Equal(200, (int)escaped.StatusCode);
        using var doc = JsonDocument.Parse(await escaped.Content.ReadAsStringAsync());
        Assert.Equal("meta-llama/Llama-3-8B", doc.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Health_200()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/health", key: null);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(response.Headers.Contains("x-request-id"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ok", doc.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_200_StatusReady()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/ready", key: null);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(response.Headers.Contains("x-request-id"));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ready", doc.RootElement.GetProperty("status").GetString());
        var config = doc.RootElement.GetProperty("checks").GetProperty("config");
        Assert.Equal(3, config.GetProperty("routes").GetInt32());
        Assert.Equal(2, config.GetProperty("keys").GetInt32());
        var requestLog = doc.RootElement.GetProperty("checks").GetProperty("request_log");
        Assert.Equal("local", requestLog.GetProperty("sink").GetString());
        Assert.Equal(0, requestLog.GetProperty("records_dropped").GetInt64());
    }
}
