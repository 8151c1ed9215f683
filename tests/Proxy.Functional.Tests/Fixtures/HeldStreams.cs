using Microsoft.AspNetCore.Http;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// A fake-upstream handler for streams that stay open until the test lets them finish: each sends its first event
/// at once (so the gateway answers 200 and the stream counts as in flight), then waits for <see cref="Release"/>
/// (bounded), then sends the rest. Counts, not clocks, decide when a test moves on, so a slow machine only waits longer.
/// </summary>
public sealed class HeldStreams
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    /// <summary>Streams that reached the upstream.</summary>
    public int Started => Volatile.Read(ref _started);

    public void Release() => _release.TrySetResult();

    public async Task HandleAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref _started);
        Upstream.StartSse(ctx);
        await Upstream.Send(ctx, Upstream.FullStream[0]);
        await _release.Task.WaitAsync(TimeSpan.FromSeconds(90), ctx.RequestAborted);
        foreach (var piece in Upstream.FullStream.Skip(1)) await Upstream.Send(ctx, piece);
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds, polling.</summary>
    public static async Task WaitUntil(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting: " + what);
            await Task.Delay(20);
        }
    }
}
