using System.Net.Sockets;
using Proxy.Pipeline;
using Proxy.Routing;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>
/// The gateway out of file descriptors (EMFILE/ENFILE) is its own failure: 503 gateway_resources, not the upstream's
/// 502 "unreachable"; not charged to the target's breaker, not counted as an upstream error, not retried elsewhere.
/// </summary>
public sealed class ResourceExhaustionTests
{
    private const string Route = """
        targets: [{ provider: up, model: a }, { provider: other, model: b }]
        circuit_breaker: { consecutive_failures: 1 }
        retries: { attempts: 3, backoff: 1ms }
        """;

    private static HttpRequestException ConnectFailed(SocketError error) =>
        new(HttpRequestError.ConnectionError, "connect failed", new SocketException((int)error));

    public static TheoryData<Exception> OutOfDescriptors() => new()
    {
        ConnectFailed(SocketError.TooManyOpenSockets),
        new SocketException((int)SocketError.TooManyOpenSockets),
        new HttpRequestException("wrapped", new IOException("Too many open files")),
        new IOException("Too many open files in system"),
    };

    [Theory]
    [MemberData(nameof(OutOfDescriptors))]
    public void OutOfDescriptors_IsTheGatewaysOwn_503_NotRetried(Exception e)
    {
        using var gw = new ScriptedGateway(route: Route);
        var failure = UpstreamRelay.DescribeSendFailure(e, gw.Config.Routes["chat"].Targets[0], TimeoutKind.FirstByte);

        Assert.Equal(503, failure.Status);
        Assert.Equal(FailureReasons.GatewayResources, failure.Reason);
        Assert.Equal("gateway_resources", failure.ErrorClass);
        Assert.Equal("gateway_resources_exhausted", failure.Code);
        Assert.False(failure.Retryable);
        Assert.Equal("1", failure.RetryAfterHeader);
        Assert.DoesNotContain("unreachable", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(FailureReasons.UpstreamClass(failure.Reason));
        Assert.False(FailureReasons.CountsAgainstTarget(failure.Reason));
    }

    [Theory]
    [InlineData(SocketError.ConnectionRefused)]
    [InlineData(SocketError.HostUnreachable)]
    [InlineData(SocketError.NoBufferSpaceAvailable)]
    public void OtherConnectFailures_StayTheUpstreams(SocketError error)
    {
        using var gw = new ScriptedGateway(route: Route);
        var failure = UpstreamRelay.DescribeSendFailure(ConnectFailed(error), gw.Config.Routes["chat"].Targets[0], TimeoutKind.FirstByte);
        Assert.Equal(502, failure.Status);
        Assert.Equal(FailureReasons.Unreachable, failure.Reason);
        Assert.True(failure.Retryable);
    }

    [Fact]
    public async Task ThroughTheHandler_BreakerIsNotCharged_NoFallback_NoUpstreamError()
    {
        using var gw = new ScriptedGateway(route: Route);
        gw.Upstream = (provider, _) => provider == "up"
            ? Task.FromException<HttpResponseMessage>(ConnectFailed(SocketError.TooManyOpenSockets))
            : Task.FromResult(ScriptedGateway.Ok());
        var body = new MemoryStream();

        var ctx = await gw.SendAsync(responseBody: body);

        Assert.Equal(503, ctx.Response.StatusCode);
        Assert.Equal("1", ctx.Response.Headers.RetryAfter.ToString());
        var error = System.Text.Json.JsonDocument.Parse(body.ToArray()).RootElement.GetProperty("error");
        Assert.Equal("gateway_resources_exhausted", error.GetProperty("code").GetString());
        Assert.Equal(1, gw.Calls); // neither retried on 'up' nor moved to 'other'
        var target = gw.Config.Routes["chat"].Targets[0];
        Assert.Equal(BreakerState.Closed, target.Breaker!.State); // one failure would open it (consecutive_failures: 1)
        var record = Assert.Single(gw.Log.Records);
        Assert.Equal("gateway_resources", record.ErrorClass);
        Assert.Equal(FailureReasons.GatewayResources, record.UpstreamError);
        var scrape = gw.Scrape();
        Assert.Contains("llm_gateway_resource_exhaustion_total{operation=\"upstream_connect\"} 1", scrape, StringComparison.Ordinal);
        Assert.DoesNotMatch("llm_gateway_upstream_errors_total\\{[^}]*\\} [1-9]", scrape);
        Assert.DoesNotContain("llm_gateway_fallbacks_total{", scrape, StringComparison.Ordinal);

        // The target is still first in line: once descriptors are back, it serves.
        gw.Upstream = (_, _) => Task.FromResult(ScriptedGateway.Ok());
        Assert.Equal(200, (await gw.SendAsync()).Response.StatusCode);
        Assert.Equal("up", gw.Log.Records.Last().Provider);
    }

    [Fact]
    public async Task AnUnreachableUpstream_StillOpensTheBreaker_AndFallsBack()
    {
        // The contrast: the same route and a real upstream failure is charged to 'up' and served by 'other'.
        using var gw = new ScriptedGateway(route: Route);
        gw.Upstream = (provider, _) => provider == "up"
            ? Task.FromException<HttpResponseMessage>(ConnectFailed(SocketError.ConnectionRefused))
            : Task.FromResult(ScriptedGateway.Ok());

        var ctx = await gw.SendAsync();

        Assert.Equal(200, ctx.Response.StatusCode);
        Assert.Equal(2, gw.Calls);
        Assert.Equal(BreakerState.Open, gw.Config.Routes["chat"].Targets[0].Breaker!.State);
    }
}
