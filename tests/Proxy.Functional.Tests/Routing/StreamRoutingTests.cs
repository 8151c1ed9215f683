using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Routing;

/// <summary>
/// Streams: a failure before the first byte reaches the client is retried or fallen back like any other; after it,
/// the stream ends with an error event and an aborted connection, never a retry and never a clean-looking end.
/// </summary>
public sealed class StreamRoutingTests
{
    private static readonly string[] FullStream = [Upstream.RoleChunk, Upstream.Chunk("Hel"), Upstream.Chunk("lo"), Upstream.Chunk("", "stop"), "[DONE]"];

    private static string TwoTargets(string extra = "") => $$"""
          r:
            strategy: fallback
            targets:
              - { provider: a, model: m-a }
              - { provider: b, model: m-b }
        {{extra}}
        """;

    private static async Task<List<string>> CompleteStreamAsync(HttpResponseMessage response, string target, int attempts)
    {
        var body = await Routed.AssertAsync(response, 200, target, attempts);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return Sse.Parse(body);
    }

    /// <summary>Reads events until the gateway aborts the stream (it must), after checking status and headers.</summary>
    private static async Task<List<string>> BrokenStreamAsync(RoutingEnv env, string target, int attempts)
    {
        using var response = await env.Gateway.PostStreamingAsync(RoutingEnv.Chat, RoutingEnv.Body(stream: true));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(target, Http.Header(response, "x-gateway-target"));
        Assert.Equal(attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), Http.Header(response, "x-gateway-attempts"));
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        try
        {
            while (await reader.NextDataAsync(TimeSpan.FromSeconds(8)) is { } data) events.Add(data);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return events;
        }
        Assert.Fail($"the stream ended cleanly after {events.Count} events; a broken stream must end with an aborted connection");
        return events;
    }

    [Fact]
    public async Task Stream_ResetBeforeAnyEvent_FallsBack_SecondStreamsWhole()
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets());
        env['a'].Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted); // headers, then the connection drops
            await Task.Delay(50, ctx.RequestAborted);
            ctx.Abort();
        };
        env['b'].Handler = RoutingEnv.OkStream;

        using var response = await env.PostAsync(RoutingEnv.Body(stream: true));

        Assert.Equal(FullStream, await CompleteStreamAsync(response, "b/m-b", attempts: 2));
        Assert.Equal((1, 1), (env.Received('a'), env.Received('b')));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_fallbacks_total", ("route", "r"), ("provider", "a"), ("reason", "incomplete")));
    }

    [Fact]
    public async Task Stream_ResetBeforeTheHeaders_FallsBack()
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets());
        env['a'].Handler = ctx =>
        {
            ctx.Abort();
            return Task.CompletedTask;
        };
        env['b'].Handler = RoutingEnv.OkStream;

        using var response = await env.PostAsync(RoutingEnv.Body(stream: true));

        Assert.Equal(FullStream, await CompleteStreamAsync(response, "b/m-b", attempts: 2));
    }

    [Fact]
    public async Task Stream_SilentBeforeFirstEventPastIdleTimeout_RetriedOnTheSameTarget()
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
            Upstream.StartSse(ctx);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            await Upstream.Hang(ctx);
        }, RoutingEnv.OkStream);

        using var response = await env.PostAsync(RoutingEnv.Body(stream: true));

        Assert.Equal(FullStream, await CompleteStreamAsync(response, "a/m-a", attempts: 2));
        var m = await env.ScrapeAsync();
        Assert.Equal(1, m.Value("llm_gateway_retries_total", ("route", "r"), ("provider", "a"), ("reason", "idle_timeout")));
    }

    [Fact]
    public async Task Stream_500BeforeTheStream_FallsBack()
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets());
        env['a'].Handler = ctx => RoutingEnv.Error(ctx, 500);
        env['b'].Handler = RoutingEnv.OkStream;

        using var response = await env.PostAsync(RoutingEnv.Body(stream: true));

        Assert.Equal(FullStream, await CompleteStreamAsync(response, "b/m-b", attempts: 2));
    }

    [Fact]
    public async Task Stream_ResetAfterTwoEvents_ErrorEventAndAbort_NoFallback()
    {
        await using var env = await RoutingEnv.StartAsync(2, TwoTargets());
        env['a'].Handler = async ctx =>
        {
            await Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(Upstream.Chunk("Hel")));
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
        };
        env['b'].Handler = RoutingEnv.OkStream;

        var events = await BrokenStreamAsync(env, "a/m-a", attempts: 1);

        Assert.Equal([Upstream.RoleChunk, Upstream.Chunk("Hel")], events.Take(2));
        Assert.Equal(3, events.Count);
        Assertions.AssertErrorShape(events[2], "upstream_error", code: "upstream_stream_broken", messageContains: "Upstream 'a' stream failed");
        Assert.Equal((1, 0), (env.Received('a'), env.Received('b')));
        var m = await env.ScrapeAsync();
        Assert.Equal(0, m.Find("llm_gateway_fallbacks_total").Sum(s => s.Value));
        Assert.Equal(1, m.Value("llm_gateway_upstream_errors_total", ("provider", "a"), ("class", "incomplete")));
    }

    [Fact]
    public async Task Stream_SlowTricklePastTheTargetsTotalTimeout_ErrorEventNamesTheTimeout()
    {
        // Every event comes within the idle timeout, but the whole stream would take 10 s; the target allows 1 s.
        await using var env = await RoutingEnv.StartAsync(2, """
              r:
                strategy: fallback
                targets:
                  - { provider: a, model: m-a, timeouts: { total: 1s } }
                  - { provider: b, model: m-b }
            """, idle: "1s");
        env['a'].Handler = async ctx =>
        {
            await Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk));
            for (int i = 0; i < 50; i++)
            {
                await Task.Delay(200, ctx.RequestAborted);
                await Upstream.Send(ctx, Upstream.Event(Upstream.Chunk("t")));
            }
            await Upstream.Send(ctx, Upstream.Done);
        };
        var clock = Stopwatch.StartNew();

        var events = await BrokenStreamAsync(env, "a/m-a", attempts: 1);

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
        Assert.Equal(Upstream.RoleChunk, events[0]);
        Assert.InRange(events.Count, 3, 8);
        Assertions.AssertErrorShape(events[^1], "timeout_error", code: "upstream_stream_broken", messageContains: "the target's total timeout (1s) expired");
        Assert.DoesNotContain("[DONE]", events);
        Assert.Equal(0, env.Received('b'));
    }
}
