using System.Text;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Tracing;

/// <summary>OpenTelemetry: spans exported over OTLP to a fake collector, and W3C trace context carried upstream.</summary>
public sealed class TracingTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientParent = "00-" + TraceId + "-00f067aa0ba902b7-01";
    private const string Body = """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"max_tokens":7}""";

    [Fact]
    public async Task TracingOn_RequestAndAttemptSpansReachTheCollector_TraceparentContinuesUpstream()
    {
        await using var collector = await FakeUpstream.StartAsync();
        collector.Handler = ctx => { ctx.Response.StatusCode = 200; return Task.CompletedTask; };
        var upstream = await FakeUpstream.StartAsync();
        await using var _ = upstream;
        upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        var endpoint = collector.BaseUrl[..^"/v1".Length] + "/v1/traces";
        var gateway = await GatewayHost.StartAsync(TestConfig.Standard(upstream.BaseUrl) +
            $"\ntracing:\n  enabled: true\n  endpoint: {endpoint}\n  service_name: gw-under-test\n  headers:\n    x-collector-key: secret-123\n");

        using (var request = gateway.Request(HttpMethod.Post, "/v1/chat/completions", Body))
        {
            request.Headers.TryAddWithoutValidation("traceparent", ClientParent);
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
        }
        var received = await upstream.FirstRequest();
        // Disposing the gateway disposes the tracer provider, which flushes the batch to the collector.
        await gateway.DisposeAsync();

        // The upstream sees the same trace, under the gateway's attempt span (a new span id), sampled.
        var parent = received.Headers["traceparent"];
        Assert.Matches($"^00-{TraceId}-[0-9a-f]{{16}}-01$", parent);
        Assert.DoesNotContain("00f067aa0ba902b7", parent, StringComparison.Ordinal);

        var export = Assert.Single(collector.Requests, r => r.Path == "/v1/traces");
        Assert.Equal("application/x-protobuf", export.Headers["Content-Type"]);
        Assert.Equal("secret-123", export.Headers["x-collector-key"]);
        // OTLP protobuf: strings travel as UTF-8 and ids as raw bytes, so both can be found without a decoder.
        var bytes = export.Body;
        Assert.True(Contains(bytes, Convert.FromHexString(TraceId)), "the spans carry the client's trace id");
        Assert.True(Contains(bytes, Convert.FromHexString(parent.Split('-')[2])), "the attempt span is the one whose id went upstream");
        foreach (var text in new[]
        {
            "gw-under-test", "chat gpt-test", "chat upstream-model", "gen_ai.operation.name", "gen_ai.system", "gen_ai.request.model",
            "gen_ai.response.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.request.max_tokens", "llm_gateway.request_id",
        })
        {
            Assert.True(Contains(bytes, Encoding.UTF8.GetBytes(text)), $"the export has '{text}'");
        }
    }

    [Fact]
    public async Task TracingOff_ClientTraceparentIsPassedUpstreamUnchanged()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);

        using var request = env.Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Body);
        request.Headers.TryAddWithoutValidation("traceparent", ClientParent);
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=abc");
        using var response = await env.Gateway.Client.SendAsync(request);
        var received = await env.Upstream.FirstRequest();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(ClientParent, received.Headers["traceparent"]);
        Assert.Equal("vendor=abc", received.Headers["tracestate"]);
    }

    [Fact]
    public async Task TracingOff_MalformedTraceparentIsNotPassedOn()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);

        using var request = env.Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Body);
        request.Headers.TryAddWithoutValidation("traceparent", "not-a-trace\r\nx-evil: 1");
        using var response = await env.Gateway.Client.SendAsync(request);
        var received = await env.Upstream.FirstRequest();

        Assert.False(received.Headers.ContainsKey("traceparent"));
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
