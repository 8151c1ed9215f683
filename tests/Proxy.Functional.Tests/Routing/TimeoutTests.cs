using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>Connect, first byte, idle and total timeouts per route and target: each expiry is named and, where it may be, retried.</summary>
public sealed class TimeoutTests
{
    /// <summary>
    /// A loopback port whose accept queue is full: new connections get no answer to their SYN, so connecting hangs
    /// (a connect timeout without leaving the machine). Dispose to release it.
    /// </summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _fill = [];

        public BlackHole()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(0);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            for (int i = 0; i < 3; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _ = s.ConnectAsync(IPAddress.Loopback, Port).ContinueWith(_ => { }, TaskScheduler.Default);
                _fill.Add(s);
            }
            Thread.Sleep(200);
        }

        public int Port { get; }

        public string BaseUrl => $"http://127.0.0.1:{Port}/v1";

        public void Dispose()
        {
            foreach (var s in _fill) s.Dispose();
            _listener.Dispose();
        }
    }

    [Fact]
    public async Task ConnectTimeout_RouteOverride_ExpiresFirst_ClassifiedAndFallenBackFrom()
    {
        using var hole = new BlackHole();
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a }
                  - { provider: b, model: m-b }
                timeouts: { connect: 300ms }
            """, baseUrls: new Dictionary<char, string> { ['a'] = hole.BaseUrl }, connect: "20s");
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "b/m-b", attempts: 2);
        // The route's 300 ms, not the provider's 20 s connect timeout (far apart, so a loaded machine cannot blur them).
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.28), TimeSpan.FromSeconds(10));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "a"), ("reason", "connect_timeout")));
        Assert.Equal(1, m.Value("llm_gateway_upstream_errors_total", ("provider", "a"), ("class", "timeout")));
    }

    [Fact]
    public async Task ConnectTimeout_ProvidersOwn_AnsweredAs504ThatSaysConnect()
    {
        using var hole = new BlackHole();
        await using var env = await RoutingEnv.StartAsync(1, "  r: { provider: a, model: m-a }", baseUrls: new Dictionary<char, string> { ['a'] = hole.BaseUrl });

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.ErrorAsync(response, 504, "a/m-a", attempts: 1, "timeout_error", code: "upstream_timeout",
            messageContains: "Upstream 'a' could not be connected to within 1s (connect timeout)");
    }

    [Fact]
    public async Task FirstByteTimeout_TargetOverride_AnsweredAs504ThatSaysFirstByte()
    {
        await using var env = await RoutingEnv.StartAsync(1, """
              r:
                targets:
                  - { provider: a, model: m-a, timeouts: { first_byte: 300ms } }
            """, firstByte: "30s");
        env['a'].Handler = ctx => Upstream.Hang(ctx);
        var clock = Stopwatch.StartNew();

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.ErrorAsync(response, 504, "a/m-a", attempts: 1, "timeout_error", code: "upstream_timeout",
            messageContains: "Upstream 'a' did not answer within 0.3s (first byte timeout)");
        // The target's 300 ms, not the provider's 30 s (nor the end of the upstream's 10 s hang).
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.28), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task IdleTimeout_PlainAnswerStallsHalfway_RetriedBeforeAnythingWasSent()
    {
        await using var env = await RoutingEnv.StartAsync(1, """
              r:
                provider: a
                model: m-a
                timeouts: { idle: 300ms }
                retries: { attempts: 2, backoff: 20ms }
            """);
        env['a'].Handler = RoutingEnv.FailFirst(1, async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = Upstream.Completion.Length + 100;
            await Upstream.Send(ctx, Upstream.Completion[..20]);
            await Upstream.Hang(ctx);
        });

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "a/m-a", attempts: 2);
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_retries_total", ("route", "r"), ("provider", "a"), ("reason", "idle_timeout")));
    }

    [Fact]
    public async Task Plain_SlowTricklePastTheTargetsTotalTimeout_FallsBackBeforeAnythingWasSent()
    {
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a, timeouts: { total: 600ms } }
                  - { provider: b, model: m-b }
            """, idle: "1s");
        env['a'].Handler = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            foreach (var c in Upstream.Completion)
            {
                await Upstream.Send(ctx, c.ToString());
                await Task.Delay(100, ctx.RequestAborted);
            }
        };

        using var response = await env.PostAsync(RoutingEnv.Body());

        await Routed.OkAsync(response, "b/m-b", attempts: 2);
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "a"), ("reason", "attempt_timeout")));
    }
}
