using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests.Routing;

/// <summary>
/// Fake OpenAI upstreams named a, b, c... (one provider each, short timeouts) and the gateway in front of them with the
/// routes a test writes. Each upstream answers 200 until a test gives it a fault; each counts what it received.
/// </summary>
public sealed class RoutingEnv : IAsyncDisposable
{
    public const string Chat = "/v1/chat/completions";

    private RoutingEnv(FakeUpstream[] upstreams, GatewayHost gateway)
    {
        Upstreams = upstreams;
        Gateway = gateway;
    }

    public FakeUpstream[] Upstreams { get; }

    public GatewayHost Gateway { get; }

    public FakeUpstream this[char name] => Upstreams[name - 'a'];

    /// <summary>A chat request for <paramref name="route"/>; streamed when asked.</summary>
    public static string Body(string route = "r", bool stream = false) =>
        $$"""{"model":"{{route}}",{{(stream ? "\"stream\":true," : "")}}"messages":[{"role":"user","content":"hi"}]}""";

    /// <param name="routes">The routes: section's entries (indented by two spaces), naming providers a, b, c...</param>
    /// <param name="server">Extra lines under server: (two spaces in).</param>
    /// <param name="top">Extra top-level sections (route_defaults:).</param>
    /// <param name="baseUrls">Upstreams to point elsewhere than their fake (a port that refuses connections, say).</param>
    public static async Task<RoutingEnv> StartAsync(int upstreams, string routes, string firstByte = "2s", string idle = "2s", string server = "", string top = "",
        IReadOnlyDictionary<char, string>? baseUrls = null, string connect = "1s")
    {
        var fakes = new FakeUpstream[upstreams];
        for (int i = 0; i < upstreams; i++)
        {
            fakes[i] = await FakeUpstream.StartAsync();
            fakes[i].Handler = Ok;
        }
        var providers = string.Concat(fakes.Select((f, i) => $$"""
              {{(char)('a' + i)}}:
                type: openai
                base_url: {{baseUrls?.GetValueOrDefault((char)('a' + i)) ?? f.BaseUrl}}
                api_key: ${{{TestKeys.UpstreamSecretEnvVar}}}
                connect_timeout: {{connect}}
                first_byte_timeout: {{firstByte}}
                idle_timeout: {{idle}}

            """));
        var yaml = $$"""
            server:
              max_body_bytes: 4096
            {{server}}
            providers:
            {{providers}}
            routes:
            {{routes}}
            {{top}}
            keys:
              - id: all
                hash: {{TestKeys.Hash(TestKeys.All)}}
            """;
        try
        {
            return new RoutingEnv(fakes, await GatewayHost.StartAsync(yaml));
        }
        catch
        {
            foreach (var f in fakes) await f.DisposeAsync();
            throw;
        }
    }

    /// <summary>A plain completion naming the upstream that answered, so a test can tell who served.</summary>
    public static Task Ok(Microsoft.AspNetCore.Http.HttpContext ctx) => Upstream.Json(ctx, 200, Upstream.Completion);

    /// <summary>The full well-formed stream.</summary>
    public static Task OkStream(Microsoft.AspNetCore.Http.HttpContext ctx) => Upstream.Sse(ctx, Upstream.FullStream);

    public static Task Error(Microsoft.AspNetCore.Http.HttpContext ctx, int status, params (string, string)[] headers) =>
        Upstream.Json(ctx, status, $$$"""{"error":{"message":"failing with {{{status}}}","type":"server_error","param":null,"code":null}}""", headers);

    /// <summary>Fails the first <paramref name="failures"/> requests with <paramref name="fault"/>, then answers with <paramref name="then"/>.</summary>
    public static Func<Microsoft.AspNetCore.Http.HttpContext, Task> FailFirst(int failures, Func<Microsoft.AspNetCore.Http.HttpContext, Task> fault,
        Func<Microsoft.AspNetCore.Http.HttpContext, Task>? then = null)
    {
        int seen = 0;
        return ctx => Interlocked.Increment(ref seen) <= failures ? fault(ctx) : (then ?? Ok)(ctx);
    }

    public Task<HttpResponseMessage> PostAsync(string body) => Gateway.PostAsync(Chat, body);

    public int Received(char name) => this[name].Requests.Count;

    public Task<Exposition> ScrapeAsync() => MetricsTests.ScrapeAsync(Gateway);

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        foreach (var f in Upstreams) await f.DisposeAsync();
    }
}

/// <summary>What every routing test checks on every answer: status, the routing headers, the body's shape.</summary>
public static class Routed
{
    /// <summary>Status, x-gateway-target and x-gateway-attempts; returns the body.</summary>
    public static async Task<string> AssertAsync(HttpResponseMessage response, int status, string? target, int attempts)
    {
        var body = await Http.ReadBodyAsync(response);
        Assert.True((int)response.StatusCode == status, $"expected HTTP {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(target, Http.Header(response, "x-gateway-target"));
        Assert.Equal(attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), Http.Header(response, "x-gateway-attempts"));
        Assert.NotNull(Http.Header(response, "x-request-id"));
        return body;
    }

    /// <summary>A 200 with the upstream's completion, byte for byte.</summary>
    public static async Task OkAsync(HttpResponseMessage response, string target, int attempts)
    {
        var body = await AssertAsync(response, 200, target, attempts);
        Assert.Equal(Upstream.Completion, body);
    }

    /// <summary>An OpenAI-shaped error; returns the error object.</summary>
    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, int status, string? target, int attempts, string type, string? code = null,
        string? messageContains = null)
    {
        var body = await AssertAsync(response, status, target, attempts);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Assertions.AssertErrorShape(body, type, code, messageContains: messageContains);
    }
}
