using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Streamed chat through an OpenAI-compatible upstream: a client that leaves, and upstreams that break, stop or stall mid-stream.</summary>
public sealed class StreamFailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_ClientDisconnectsMidway_UpstreamRequestAborted(bool upstreamSilent)
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await Upstream.Send(ctx, Upstream.Event(Upstream.RoleChunk));
            // Silent (the gateway has nothing to write, so it must notice the client leaving by itself),
            // or talking well inside the idle timeout, until someone hangs up.
            for (int i = 0; i < 50; i++)
            {
                await Task.Delay(200, ctx.RequestAborted);
                if (!upstreamSilent) await Upstream.Send(ctx, ": keep-alive\n\n");
            }
        };

        var response = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Streams.Body);
        var sse = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(Upstream.RoleChunk, await sse.NextDataAsync());
        var received = await env.Upstream.FirstRequest();
        Assert.False(received.Aborted.IsCompleted);

        sse.Dispose();
        response.Dispose();
        var clock = Stopwatch.StartNew();

        // Without the abort the upstream request would run its whole 10 s (50 x 200 ms) and end normally, never aborted;
        // the bound is well under that and far above what a loaded 2-core machine needs to pass the hang-up on.
        await received.Aborted.WaitAsync(TimeSpan.FromSeconds(8));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"upstream aborted only after {clock.Elapsed}");
    }

    [Fact]
    public async Task Stream_UpstreamAbortsAfterTwoChunks_EndsWithErrorEventAndNoDone()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            await Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(Upstream.Chunk("Hel")));
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
        };

        var events = await Streams.EventsUntilAbortAsync(env);

        Assert.Equal([Upstream.RoleChunk, Upstream.Chunk("Hel")], events.Take(2));
        Assert.Equal(3, events.Count);
        var error = Assertions.AssertErrorShape(events[2], "upstream_error", code: "upstream_stream_broken", messageContains: "Upstream 'up' stream failed");
        Assert.Contains("broke", Assertions.Message(error), StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task Stream_UpstreamClosesCleanlyWithoutDone_EndsWithErrorEvent()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(Upstream.Chunk("Hel")));

        var events = await Streams.EventsUntilAbortAsync(env);

        Assert.Equal(3, events.Count);
        Assert.Equal(Upstream.Chunk("Hel"), events[1]);
        Assertions.AssertErrorShape(events[2], "upstream_error", code: "upstream_stream_broken",
            messageContains: "Upstream 'up' stream failed: the upstream closed the stream before it was complete");
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task Stream_UpstreamSilentPastIdleTimeout_EndsWithTimeoutErrorEvent()
    {
        await using var env = await TestEnv.StartAsync(Streams.ShortIdle);
        env.Upstream.Handler = async ctx =>
        {
            await Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(Upstream.Chunk("Hel")));
            await Upstream.Hang(ctx);
        };
        var clock = Stopwatch.StartNew();

        var events = await Streams.EventsUntilAbortAsync(env);

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8)); // 1 s idle timeout; the upstream hangs 10 s
        Assert.Equal(3, events.Count);
        Assertions.AssertErrorShape(events[2], "timeout_error", code: "upstream_stream_broken", messageContains: "idle timeout");
        Assert.DoesNotContain("[DONE]", events);
        // The gateway gave up on the upstream too.
        await (await env.Upstream.FirstRequest()).Aborted.WaitAsync(TimeSpan.FromSeconds(8)); // under the hang's 10 s
    }

    [Fact]
    public async Task Stream_UpstreamSilentBeforeFirstEvent_PlainGatewayTimeout()
    {
        await using var env = await TestEnv.StartAsync(Streams.ShortIdle);
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted); // headers only, then nothing
            await Upstream.Hang(ctx);
        };

        var clock = Stopwatch.StartNew();
        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body);

        // Headers came in time; the silence after them is the idle timeout (1 s), and nothing reached the client yet.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8)); // 1 s idle timeout; the upstream hangs 10 s
        await Assertions.AssertOpenAiError(response, 504, "timeout_error", code: "upstream_stream_broken", messageContains: "Upstream 'up' stream failed: no data for 1s (idle timeout)");
    }

    [Fact]
    public async Task Stream_UpstreamErrorEventMidStream_PassedOnAndStreamEnds()
    {
        await using var env = await TestEnv.StartAsync();
        const string upstreamError = """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""";
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(upstreamError));

        var events = await Streams.EventsUntilAbortAsync(env);

        Assert.Equal([Upstream.RoleChunk, upstreamError], events);
    }

    [Fact]
    public async Task Stream_KeepAliveCommentsWithinIdleTimeout_StreamSurvivesLongerThanIdleTimeout()
    {
        // A 3 s idle timeout and a keep-alive every 250 ms for 4 s: only a stall of 2.75 s on a loaded machine could
        // break it (with 1 s and 300 ms gaps, a full test run on 2 cores once did).
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, idleTimeout: "3s"));
        env.Upstream.Handler = async ctx =>
        {
            await Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk));
            for (int i = 0; i < 16; i++) // 4 s in all, never 3 s (the idle timeout) of silence
            {
                await Task.Delay(250, ctx.RequestAborted);
                await Upstream.Send(ctx, ": keep-alive\n\n");
            }
            await Upstream.Send(ctx, Upstream.Event(Upstream.Chunk("late")) + Upstream.Done);
        };

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body);
        var body = await Http.ReadBodyAsync(response);

        Assert.Equal([Upstream.RoleChunk, Upstream.Chunk("late"), "[DONE]"], Sse.Parse(body));
        Assert.Contains(": keep-alive", body, StringComparison.Ordinal);
    }
}
