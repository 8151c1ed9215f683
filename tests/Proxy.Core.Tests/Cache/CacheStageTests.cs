using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Proxy.Accounting;
using Proxy.Cache;
using Proxy.Keys;
using Proxy.Metrics;
using Proxy.Routing;

namespace Proxy.Core.Tests.Cache;

/// <summary>
/// The cache stage around its store: what is stored after a miss and what is not, a hit answered byte for byte, and a
/// store that is slow or failing turned into a miss (reads) or a count (writes), never an error.
/// </summary>
public sealed class CacheStageTests
{
    private static readonly Route Route = new() { Name = "cached", Targets = [] };
    private static readonly byte[] Request = Encoding.UTF8.GetBytes("""{"model":"cached","messages":[{"role":"user","content":"hi"}]}""");
    private static readonly VirtualKey Key = new() { Id = "team-a" };

    private sealed class FakeStore : IResponseCache
    {
        public Func<string, ValueTask<byte[]?>>? OnGet { get; set; }
        public Func<string, byte[], ValueTask>? OnSet { get; set; }
        public Dictionary<string, byte[]> Entries { get; } = [];

        public string Name => "fake";

        public ValueTask<byte[]?> GetAsync(string key, CancellationToken ct) =>
            OnGet?.Invoke(key) ?? new ValueTask<byte[]?>(Entries.GetValueOrDefault(key));

        public ValueTask SetAsync(string key, byte[] value, TimeSpan ttl)
        {
            if (OnSet is not null) return OnSet(key, value);
            Entries[key] = value;
            return default;
        }
    }

    private static (DefaultHttpContext Ctx, CallOutcome Outcome) NewRequest()
    {
        var ctx = new DefaultHttpContext();
        ctx.Response.Body = new MemoryStream();
        return (ctx, new CallOutcome(Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow, 0) { Route = Route });
    }

    /// <summary>What the relay does on a whole 200 answer: status, content type, and the bytes through the capture.</summary>
    private static void Answered(DefaultHttpContext ctx, CallOutcome outcome, string body, string type = "application/json")
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = type;
        outcome.UpstreamStatus = 200;
        outcome.CaptureResponse(Encoding.UTF8.GetBytes(body));
    }

    private static string Written(DefaultHttpContext ctx) => Encoding.UTF8.GetString(((MemoryStream)ctx.Response.Body).ToArray());

    private static CacheStage Stage(IResponseCache store, GatewayMetrics? metrics = null) =>
        new(store, TimeSpan.FromMilliseconds(50), metrics ?? new GatewayMetrics(), NullLogger.Instance, TimeProvider.System);

    [Fact]
    public async Task AMissStoredWhole_ThenAHitAnsweredByteForByte()
    {
        var store = new FakeStore();
        var stage = Stage(store);
        var (ctx, outcome) = NewRequest();
        var ticket = await stage.LookupAsync(ctx, outcome, new RouteCachePolicy(), Key, Request, stream: false, CancellationToken.None);
        Assert.Equal(("miss", "miss", false), (outcome.CacheResult, ctx.Response.Headers["x-gateway-cache"].ToString(), ticket!.Hit));
        Answered(ctx, outcome, "{\"answer\":\"é\"}");
        stage.Complete(ctx, outcome, ticket);
        Assert.Single(store.Entries);

        var (hitCtx, hitOutcome) = NewRequest();
        var hit = await stage.LookupAsync(hitCtx, hitOutcome, new RouteCachePolicy(), Key, Request, stream: false, CancellationToken.None);
        Assert.True(hit!.Hit);
        Assert.Equal((200, "application/json", "hit", (long?)Encoding.UTF8.GetByteCount("{\"answer\":\"é\"}")), (hitCtx.Response.StatusCode,
            hitCtx.Response.ContentType, hitCtx.Response.Headers["x-gateway-cache"].ToString(), hitCtx.Response.ContentLength));
        Assert.Equal("{\"answer\":\"é\"}", Written(hitCtx));
        Assert.Equal("hit", hitOutcome.CacheResult);
    }

    [Fact]
    public async Task AStreamHit_IsAStream()
    {
        var store = new FakeStore();
        var stage = Stage(store);
        var (ctx, outcome) = NewRequest();
        var ticket = await stage.LookupAsync(ctx, outcome, new RouteCachePolicy(), Key, Request, stream: true, CancellationToken.None);
        Answered(ctx, outcome, "data: {}\n\ndata: [DONE]\n\n", "text/event-stream");
        stage.Complete(ctx, outcome, ticket!);

        var (hitCtx, hitOutcome) = NewRequest();
        Assert.True((await stage.LookupAsync(hitCtx, hitOutcome, new RouteCachePolicy(), Key, Request, stream: true, CancellationToken.None))!.Hit);
        Assert.Equal(("text/event-stream", "no-cache", (long?)null), (hitCtx.Response.ContentType, hitCtx.Response.Headers.CacheControl.ToString(), hitCtx.Response.ContentLength));
        Assert.Equal("data: {}\n\ndata: [DONE]\n\n", Written(hitCtx));
        Assert.NotEqual(0, hitOutcome.FirstEvent);

        // The same request not streamed is another entry.
        var (plainCtx, plainOutcome) = NewRequest();
        Assert.False((await stage.LookupAsync(plainCtx, plainOutcome, new RouteCachePolicy(), Key, Request, stream: false, CancellationToken.None))!.Hit);
    }

    public static TheoryData<string> NotStored => ["status 500", "upstream 500", "failed class", "client left", "too large", "no content type"];

    [Theory]
    [MemberData(nameof(NotStored))]
    public async Task OnlyAWhole200ThatFits_IsStored(string what)
    {
        var store = new FakeStore();
        var stage = Stage(store);
        var (ctx, outcome) = NewRequest();
        var ticket = await stage.LookupAsync(ctx, outcome, new RouteCachePolicy { MaxEntryBytes = 64 }, Key, Request, stream: false, CancellationToken.None);
        Answered(ctx, outcome, what == "too large" ? new string('x', 65) : "{}");
        switch (what)
        {
            case "status 500": ctx.Response.StatusCode = 500; break;
            case "upstream 500": outcome.UpstreamStatus = 500; break;
            case "failed class": outcome.ErrorClass = "upstream_error"; break;
            case "client left": outcome.ErrorClass = ErrorClasses.ClientClosed; break;
            case "no content type": ctx.Response.ContentType = null; break;
        }
        stage.Complete(ctx, outcome, ticket!);
        Assert.Empty(store.Entries);
    }

    [Fact]
    public async Task PerKeyOrNot_DecidesWhetherKeysShare()
    {
        var store = new FakeStore();
        var stage = Stage(store);
        foreach (var perKey in (bool[])[false, true])
        {
            var policy = new RouteCachePolicy { PerKey = perKey };
            var (ctx, outcome) = NewRequest();
            var ticket = await stage.LookupAsync(ctx, outcome, policy, Key, Request, stream: false, CancellationToken.None);
            Answered(ctx, outcome, "{}");
            stage.Complete(ctx, outcome, ticket!);
            var (otherCtx, otherOutcome) = NewRequest();
            var other = await stage.LookupAsync(otherCtx, otherOutcome, policy, new VirtualKey { Id = "team-b" }, Request, stream: false, CancellationToken.None);
            Assert.Equal(!perKey, other!.Hit);
        }
    }

    [Fact]
    public async Task ASlowOrFailingRead_IsAMissWithinTheTimeout_AndCounted()
    {
        var metrics = new GatewayMetrics();
        var store = new FakeStore { OnGet = async _ => { await Task.Delay(5_000); return [1]; } };
        var stage = Stage(store, metrics);
        var (ctx, outcome) = NewRequest();
        var took = Stopwatch.StartNew();
        var ticket = await stage.LookupAsync(ctx, outcome, new RouteCachePolicy(), Key, Request, stream: false, CancellationToken.None);
        Assert.False(ticket!.Hit);
        Assert.InRange(took.ElapsedMilliseconds, 40, 1_000);

        store.OnGet = _ => throw new InvalidOperationException("down");
        var (failedCtx, failedOutcome) = NewRequest();
        Assert.False((await stage.LookupAsync(failedCtx, failedOutcome, new RouteCachePolicy(), Key, Request, stream: false, CancellationToken.None))!.Hit);
        Assert.Equal("miss", failedCtx.Response.Headers["x-gateway-cache"].ToString());

        store.OnSet = (_, _) => ValueTask.FromException(new InvalidOperationException("read only"));
        Answered(failedCtx, failedOutcome, "{}");
        stage.Complete(failedCtx, failedOutcome, new CacheStage.Ticket("k", new RouteCachePolicy(), hit: false));

        var text = await ScrapeAsync(metrics);
        Assert.Contains("llm_gateway_cache_store_failures_total{store=\"fake\",operation=\"read\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_cache_store_failures_total{store=\"fake\",operation=\"write\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStoreFailingInARow_IsSkippedForAMoment_ThenTriedAgain()
    {
        var time = new Proxy.Core.Tests.Routing.ManualTime();
        int calls = 0;
        var store = new FakeStore { OnGet = _ => { calls++; throw new InvalidOperationException("down"); } };
        var stage = new CacheStage(store, TimeSpan.FromMilliseconds(50), new GatewayMetrics(), NullLogger.Instance, time);
        async Task<bool> Hit()
        {
            var (ctx, outcome) = NewRequest();
            return (await stage.LookupAsync(ctx, outcome, new RouteCachePolicy(), Key, Request, stream: false, CancellationToken.None))!.Hit;
        }

        for (int i = 0; i < CacheStage.FailuresToSkip; i++) Assert.False(await Hit());
        Assert.Equal(CacheStage.FailuresToSkip, calls);
        Assert.False(await Hit()); // skipped: a miss without asking the store
        Assert.Equal(CacheStage.FailuresToSkip, calls);

        time.Advance(CacheStage.SkipFor);
        store.OnGet = _ => { calls++; return new ValueTask<byte[]?>((byte[]?)null); }; // the store is back, empty
        Assert.False(await Hit());
        Assert.Equal(CacheStage.FailuresToSkip + 1, calls); // asked again after the pause
    }

    private static async Task<string> ScrapeAsync(GatewayMetrics metrics)
    {
        using var output = new MemoryStream();
        await metrics.WriteToAsync(output, openMetrics: false, CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
