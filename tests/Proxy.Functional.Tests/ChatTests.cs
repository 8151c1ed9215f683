using System.Text;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Plain (non-streamed) chat through an OpenAI-compatible upstream.</summary>
public sealed class ChatTests
{
    // Odd spacing, escapes and non-ASCII so "byte for byte" means something.
    private const string Prefix = "{ \"messages\" : [ {\"role\":\"user\",\"content\":\"h\\u00e9llo  ✓ \\\"quoted\\\"\"} ],\n  \"model\" :  ";
    private const string Suffix = " , \"temperature\":0.25,\"metadata\":{\"model\":\"not-this-one\"} }";

    [Fact]
    public async Task Chat_RenamedRoute_UpstreamGetsClientBodyWithModelSplicedAndProviderKey()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Prefix + "\"gpt-test\"" + Suffix);

        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetBytes(Upstream.Completion), body);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        var received = await env.Upstream.FirstRequest();
        Assert.Equal("POST", received.Method);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("Bearer " + TestKeys.UpstreamSecret, received.Headers["Authorization"]);
        Assert.Equal(Encoding.UTF8.GetBytes(Prefix + "\"upstream-model\"" + Suffix), received.Body);
        Assert.Equal(received.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Headers["Content-Length"]);
        AssertNoClientKeyLeaked(received);
    }

    [Fact]
    public async Task Chat_SameNameRoute_UpstreamBodyIdenticalToClientBody()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        var clientBody = Prefix + "\"same-name\"" + Suffix;

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", clientBody);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(Upstream.Completion, await response.Content.ReadAsStringAsync());
        var received = await env.Upstream.FirstRequest();
        Assert.Equal(Encoding.UTF8.GetBytes(clientBody), received.Body);
        Assert.Equal("Bearer " + TestKeys.UpstreamSecret, received.Headers["Authorization"]);
        AssertNoClientKeyLeaked(received);
    }

    [Fact]
    public async Task Chat_LargeUpstreamAnswer_RelayedByteForByte()
    {
        await using var env = await TestEnv.StartAsync();
        var big = "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
            + string.Concat(Enumerable.Range(0, 30_000).Select(i => (char)('a' + (i % 26)))) + "\"},\"finish_reason\":\"stop\"}]}";
        env.Upstream.Handler = async ctx =>
        {
            // Several writes, so the gateway sees the answer in many reads.
            ctx.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(big);
            for (int i = 0; i < bytes.Length; i += 7000)
            {
                await ctx.Response.Body.WriteAsync(bytes.AsMemory(i, Math.Min(7000, bytes.Length - i)), ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
        };

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(big, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Chat_ApiKeyHeaderInsteadOfBearer_IsAccepted()
    {
        await using var env = await TestEnv.StartAsync();
        using var request = env.Gateway.Request(HttpMethod.Post, "/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""", key: null);
        request.Headers.Add("x-api-key", TestKeys.All);

        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Chat_BodyExactlyAtMaxBodyBytes_IsAccepted()
    {
        await using var env = await TestEnv.StartAsync();
        var start = "{\"model\":\"mock-gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"user\":\"";
        var body = start + new string('x', TestConfig.MaxBodyBytes - start.Length - 2) + "\"}";
        Assert.Equal(TestConfig.MaxBodyBytes, Encoding.UTF8.GetByteCount(body));

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", body);

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Chat_EscapedModelName_RoutedAndSpliced()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt\u002dtest","messages":[]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"model":"upstream-model","messages":[]}""", (await env.Upstream.FirstRequest()).BodyText);
    }

    [Fact]
    public async Task Chat_ProviderHeaders_SentUpstream_ClientHeadersNot()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url).Replace(
            "    idle_timeout: 5s\n", "    idle_timeout: 5s\n    headers:\n      OpenAI-Organization: org-gateway\n", StringComparison.Ordinal));
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        using var request = env.Gateway.Request(HttpMethod.Post, "/v1/chat/completions", """{"model":"gpt-test","messages":[]}""");
        request.Headers.Add("OpenAI-Organization", "org-client");
        request.Headers.Add("Cookie", "session=client-cookie");

        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("org-gateway", received.Headers["OpenAI-Organization"]);
        Assert.False(received.Headers.ContainsKey("Cookie"));
    }

    [Fact]
    public async Task Chat_DuplicateModelKeys_UpstreamNeverSeesAModelTheKeyWasNotRoutedTo()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);

        // Routed by the last "model" (gpt-test); an upstream whose parser keeps the first one would serve "gpt-4-expensive".
        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"gpt-4-expensive","messages":[],"model":"gpt-test"}""");

        if ((int)response.StatusCode == 400) return; // refusing the ambiguous body is fine
        var received = await env.Upstream.FirstRequest();
        Assert.DoesNotContain("gpt-4-expensive", received.BodyText, StringComparison.Ordinal);
    }

    private static void AssertNoClientKeyLeaked(RecordedRequest received)
    {
        foreach (var (_, value) in received.Headers)
            Assert.DoesNotContain(TestKeys.All, value, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.All, received.BodyText, StringComparison.Ordinal);
    }
}
