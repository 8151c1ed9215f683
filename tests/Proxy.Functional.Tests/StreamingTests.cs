using System.Diagnostics;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Streamed chat through an OpenAI-compatible upstream: the usage request and chunk, pacing, framing.</summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task Stream_ClientWithoutIncludeUsage_UpstreamAskedForUsage_ClientDoesNotSeeUsageChunk()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body);
        var body = await Http.ReadBodyAsync(response);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("""{"model":"upstream-model","stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""",
            received.BodyText);
        // Everything the upstream sent except its usage-only chunk, byte for byte.
        Assert.Equal(string.Concat(Upstream.FullStream.Where(e => !e.Contains("\"choices\":[]", StringComparison.Ordinal))), body);
        Assert.DoesNotContain("\"choices\":[]", body, StringComparison.Ordinal);
        Assert.EndsWith(Upstream.Done, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"same-name","stream":true,"stream_options":{"include_usage":false},"messages":[]}""",
        """{"model":"same-name","stream":true,"stream_options":{"include_usage":true},"messages":[]}""")]
    [InlineData("""{"model":"same-name","stream":true,"stream_options":{},"messages":[]}""",
        """{"model":"same-name","stream":true,"stream_options":{"include_usage":true},"messages":[]}""")]
    [InlineData("""{"model":"same-name","stream":true,"stream_options":null,"messages":[]}""",
        """{"model":"same-name","stream":true,"stream_options":{"include_usage":true},"messages":[]}""")]
    [InlineData("""{"stream_options":{"x":1},"stream":true,"model":"gpt-test","messages":[]}""",
        """{"stream_options":{"include_usage":true,"x":1},"stream":true,"model":"upstream-model","messages":[]}""")]
    public async Task Stream_StreamOptionsVariants_UpstreamAlwaysGetsIncludeUsageTrue(string clientBody, string expectedUpstreamBody)
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", clientBody);
        var body = await Http.ReadBodyAsync(response);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(expectedUpstreamBody, (await env.Upstream.FirstRequest()).BodyText);
        Assert.DoesNotContain("\"choices\":[]", body, StringComparison.Ordinal);
        Assert.EndsWith(Upstream.Done, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_ClientAskedForUsage_SeesUsageChunk_UpstreamBodyUnchanged()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);
        const string clientBody = """{"model":"same-name","stream":true,"stream_options":{"include_usage":true},"messages":[]}""";

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", clientBody);
        var body = await Http.ReadBodyAsync(response);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(clientBody, (await env.Upstream.FirstRequest()).BodyText);
        Assert.Equal(string.Concat(Upstream.FullStream), body);
        var usage = Sse.Parse(body).Single(d => d.Contains("\"choices\":[]", StringComparison.Ordinal));
        Assert.Equal(11, JsonDocument.Parse(usage).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_ChunksArriveAsUpstreamSendsThem_FirstSeenBeforeSecondIsSent()
    {
        // The idle timeout (5 s) is longer than the upstream below ever waits.
        await using var env = await TestEnv.StartAsync();
        var clientSawFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long secondSentAt = 0;
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await Upstream.Send(ctx, Upstream.Event(Upstream.RoleChunk));
            // At least 300 ms later, and not before the client has seen the first chunk; a gateway that buffers
            // never lets the client see it, so the second goes after 3 s and the client's check below fails.
            await Task.WhenAll(Task.Delay(300, ctx.RequestAborted), Task.WhenAny(clientSawFirst.Task, Task.Delay(3000, ctx.RequestAborted)));
            Interlocked.Exchange(ref secondSentAt, Stopwatch.GetTimestamp());
            await Upstream.Send(ctx, Upstream.Event(Upstream.Chunk("second")));
            await Upstream.Send(ctx, Upstream.Done);
        };

        using var response = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Streams.Body);
        Assert.Equal(200, (int)response.StatusCode);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync());

        var first = await sse.NextDataAsync();
        bool secondAlreadySent = Interlocked.Read(ref secondSentAt) != 0;
        clientSawFirst.TrySetResult();
        Assert.Equal(Upstream.RoleChunk, first);
        Assert.False(secondAlreadySent, "the client got the first chunk only after the upstream had sent the second: the gateway buffers");
        Assert.Contains("second", await sse.NextDataAsync(), StringComparison.Ordinal);
        Assert.Equal("[DONE]", await sse.NextDataAsync());
        Assert.Null(await sse.NextDataAsync());
    }

    [Fact]
    public async Task Stream_EventSplitAcrossUpstreamWrites_ArrivesWhole()
    {
        await using var env = await TestEnv.StartAsync();
        var chunk = Upstream.Event(Upstream.Chunk(new string('z', 20_000)));
        env.Upstream.Handler = async ctx =>
        {
            Upstream.StartSse(ctx);
            await Upstream.Send(ctx, Upstream.Event(Upstream.RoleChunk));
            for (int i = 0; i < chunk.Length; i += 3000)
            {
                await Upstream.Send(ctx, chunk.Substring(i, Math.Min(3000, chunk.Length - i)));
                await Task.Delay(20, ctx.RequestAborted);
            }
            await Upstream.Send(ctx, "data: [DO");
            await Task.Delay(20, ctx.RequestAborted);
            await Upstream.Send(ctx, "NE]\n\n");
        };

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body);
        var body = await Http.ReadBodyAsync(response);

        Assert.Equal(Upstream.Event(Upstream.RoleChunk) + chunk + Upstream.Done, body);
    }

    [Fact]
    public async Task Stream_CrlfLineEndings_RelayedAndCompleted()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx,
            "data: " + Upstream.RoleChunk + "\r\n\r\n", "data: " + Upstream.Chunk("Hi") + "\r\n\r\n", "data: " + Upstream.UsageChunk + "\r\n\r\n", "data: [DONE]\r\n\r\n");

        var events = await Streams.EventsAsync(env);

        Assert.Equal([Upstream.RoleChunk, Upstream.Chunk("Hi"), "[DONE]"], events);
    }

    [Fact]
    public async Task Stream_ResponseHeaders_NoCacheAndNoProxyBuffering()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Streams.Body);
        await Http.ReadBodyAsync(response);

        Assert.Equal("no-cache", Http.Header(response, "Cache-Control"));
        Assert.Equal("no", Http.Header(response, "X-Accel-Buffering"));
    }

    [Fact]
    public async Task Stream_UsageChunkInSpacedJson_HiddenFromClientThatDidNotAsk()
    {
        // Python servers (json.dumps defaults) write ", " and ": " between tokens.
        const string spacedUsage = """{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}""";
        const string spacedChunk = """{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}], "usage": null}""";
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.Event(spacedChunk), Upstream.Event(spacedUsage), Upstream.Done);

        var events = await Streams.EventsAsync(env);

        Assert.Equal([spacedChunk, "[DONE]"], events);
    }
}
