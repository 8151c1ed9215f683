using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Every answer carries x-request-id: the client's own when it sent one, a fresh one otherwise.</summary>
public sealed class RequestIdTests
{
    private const string Ok = """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""";
    private const string UnknownModel = """{"model":"nope","messages":[]}""";

    [Theory]
    [InlineData(Ok, 200)]
    [InlineData(UnknownModel, 404)]
    [InlineData("{not json", 400)]
    public async Task RequestId_ClientSendsOne_Echoed(string body, int status)
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", body, requestId: "client-trace-42");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("client-trace-42", Http.Header(response, "x-request-id"));
    }

    [Theory]
    [InlineData(Ok, 200)]
    [InlineData(UnknownModel, 404)]
    public async Task RequestId_ClientSendsNone_GeneratedAndUnique(string body, int status)
    {
        await using var env = await TestEnv.StartAsync();

        using var first = await env.Gateway.PostAsync("/v1/chat/completions", body);
        using var second = await env.Gateway.PostAsync("/v1/chat/completions", body);

        Assert.Equal(status, (int)first.StatusCode);
        var a = Http.Header(first, "x-request-id");
        var b = Http.Header(second, "x-request-id");
        Assert.False(string.IsNullOrWhiteSpace(a));
        Assert.False(string.IsNullOrWhiteSpace(b));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task RequestId_OnAuthFailure_Echoed()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Ok, key: null, requestId: "rid-auth");

        Assert.Equal(401, (int)response.StatusCode);
        Assert.Equal("rid-auth", Http.Header(response, "x-request-id"));
    }

    [Fact]
    public async Task RequestId_OnUpstreamFailure_Echoed()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 401, """{"error":{"message":"bad key","type":"x","param":null,"code":null}}""");

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[]}""", requestId: "rid-up");

        Assert.Equal(502, (int)response.StatusCode);
        Assert.Equal("rid-up", Http.Header(response, "x-request-id"));
    }

    [Fact]
    public async Task RequestId_OnStream_Echoed()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}""", requestId: "rid-stream");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("rid-stream", Http.Header(response, "x-request-id"));
    }

    [Fact]
    public async Task RequestId_OnModelsList_Echoed()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.GetAsync("/v1/models", requestId: "rid-models");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("rid-models", Http.Header(response, "x-request-id"));
    }

    [Fact]
    public async Task RequestId_UnsaneIncoming_ReplacedNotEchoed()
    {
        await using var env = await TestEnv.StartAsync();
        var tooLong = new string('a', 200);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Ok, requestId: tooLong);

        var id = Http.Header(response, "x-request-id");
        Assert.False(string.IsNullOrWhiteSpace(id));
        Assert.NotEqual(tooLong, id);
    }

    [Fact]
    public async Task RequestId_UnknownPath404_Generated()
    {
        await using var env = await TestEnv.StartAsync();

        using var echoed = await env.Gateway.GetAsync("/v1/nope", requestId: "rid-404");
        using var generated = await env.Gateway.GetAsync("/v1/nope");

        Assert.Equal(404, (int)echoed.StatusCode);
        Assert.Equal("rid-404", Http.Header(echoed, "x-request-id"));
        Assert.False(string.IsNullOrWhiteSpace(Http.Header(generated, "x-request-id")));
    }
}
