using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Core.Tests.Routing;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class InMemoryResponseStoreTests
{
    private readonly ManualTime _time = new();

    private DateTimeOffset In(TimeSpan ttl) => _time.GetUtcNow() + ttl;

    private static byte[] Bytes(int n) => new byte[n];

    private bool Save(InMemoryResponseStore store, string key, string id, int size = 10, TimeSpan? ttl = null) =>
        store.Save(key, id, Bytes(size), Bytes(size), Bytes(size), In(ttl ?? TimeSpan.FromHours(1)));

    [Fact]
    public void SavedResponse_IsFound_OnlyByItsKey()
    {
        var store = new InMemoryResponseStore(100, 1 << 20, _time);
        Assert.True(store.Save("key-a", "resp_1", "[1]"u8.ToArray(), "[2]"u8.ToArray(), "{}"u8.ToArray(), In(TimeSpan.FromHours(1))));

        var found = store.TryGet("key-a", "resp_1");
        Assert.NotNull(found);
        Assert.Equal("[1]"u8.ToArray(), found.InputItems);
        Assert.Equal("[2]"u8.ToArray(), found.OutputItems);
        Assert.Equal("key-a", found.KeyId);
        Assert.Null(store.TryGet("key-b", "resp_1"));
        Assert.False(store.Delete("key-b", "resp_1"));
        Assert.NotNull(store.TryGet("key-a", "resp_1"));
    }

    [Fact]
    public void Delete_ForgetsIt_Once()
    {
        var store = new InMemoryResponseStore(100, 1 << 20, _time);
        Save(store, "k", "resp_1");

        Assert.True(store.Delete("k", "resp_1"));
        Assert.Null(store.TryGet("k", "resp_1"));
        Assert.False(store.Delete("k", "resp_1"));
        Assert.Equal(0, store.Count);
        Assert.Equal(0, store.Bytes);
    }

    [Fact]
    public void Expired_IsGone()
    {
        var store = new InMemoryResponseStore(100, 1 << 20, _time);
        Save(store, "k", "resp_short", ttl: TimeSpan.FromMinutes(5));
        Save(store, "k", "resp_long", ttl: TimeSpan.FromMinutes(30));

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(store.TryGet("k", "resp_short"));
        Assert.False(store.Delete("k", "resp_short"));
        Assert.NotNull(store.TryGet("k", "resp_long"));

        _time.Advance(TimeSpan.FromMinutes(25));
        Assert.Null(store.TryGet("k", "resp_long"));
        Assert.False(store.Save("k", "resp_dead", Bytes(1), Bytes(1), Bytes(1), _time.GetUtcNow()));
    }

    [Fact]
    public void CountBound_EvictsTheOldestFirst()
    {
        var store = new InMemoryResponseStore(3, 1 << 20, _time);
        foreach (var id in new[] { "r1", "r2", "r3", "r4" }) Save(store, "k", id);

        Assert.Equal(3, store.Count);
        Assert.Null(store.TryGet("k", "r1"));
        Assert.NotNull(store.TryGet("k", "r2"));
        Assert.NotNull(store.TryGet("k", "r4"));
    }

    [Fact]
    public void ByteBound_EvictsTheOldestFirst_AndRefusesWhatCannotFit()
    {
        var probe = new StoredResponse("k", "r1", Bytes(100), Bytes(100), Bytes(100), DateTimeOffset.MaxValue);
        var store = new InMemoryResponseStore(100, probe.Size * 2, _time);

        Assert.True(Save(store, "k", "r1", 100));
        Assert.True(Save(store, "k", "r2", 100));
        Assert.True(Save(store, "k", "r3", 100));
        Assert.Null(store.TryGet("k", "r1"));
        Assert.NotNull(store.TryGet("k", "r2"));
        Assert.Equal(probe.Size * 2, store.Bytes);

        Assert.False(Save(store, "k", "huge", 1000));
        Assert.NotNull(store.TryGet("k", "r2")); // a refused save evicts nothing
    }

    [Fact]
    public void SavingTheSameIdAgain_Replaces()
    {
        var store = new InMemoryResponseStore(100, 1 << 20, _time);
        Save(store, "k", "r1", 10);
        Save(store, "k", "r1", 20);

        Assert.Equal(1, store.Count);
        Assert.Equal(20, store.TryGet("k", "r1")!.Response.Length);
    }

    [Fact]
    public void Passthrough_IsFound_OnlyByItsKey_AndNeverAsAStoredResponse()
    {
        var store = new InMemoryResponseStore(100, 1 << 20, _time);
        Assert.True(store.SavePassthrough("key-a", "resp_up", "openai", In(TimeSpan.FromHours(1))));

        Assert.Equal(("key-a", "resp_up", "openai"), store.TryGetPassthrough("key-a", "resp_up") is { } p ? (p.KeyId, p.ResponseId, p.Provider) : default);
        Assert.Null(store.TryGetPassthrough("key-b", "resp_up"));
        // previous_response_id looks up stored responses: the gateway has no conversation behind a pointer.
        Assert.Null(store.TryGet("key-a", "resp_up"));
        Save(store, "key-a", "resp_own");
        Assert.Null(store.TryGetPassthrough("key-a", "resp_own"));
    }

    [Fact]
    public void Passthrough_SharesTheBoundsAndExpiry_AndIsDeleted()
    {
        var store = new InMemoryResponseStore(2, 1 << 20, _time);
        store.SavePassthrough("k", "p1", "openai", In(TimeSpan.FromMinutes(5)));
        Save(store, "k", "r1");
        store.SavePassthrough("k", "p2", "azure", In(TimeSpan.FromHours(1)));

        Assert.Equal(2, store.Count);
        Assert.Null(store.TryGetPassthrough("k", "p1")); // the oldest went first
        Assert.True(store.Delete("k", "p2"));
        Assert.Null(store.TryGetPassthrough("k", "p2"));

        store.SavePassthrough("k", "p3", "openai", In(TimeSpan.FromMinutes(5)));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(store.TryGetPassthrough("k", "p3"));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void ConcurrentUse_KeepsTheBounds()
    {
        var store = new InMemoryResponseStore(50, 1 << 20, _time);
        Parallel.For(0, 2000, i =>
        {
            Save(store, $"k{i % 4}", $"r{i}");
            store.TryGet($"k{i % 4}", $"r{i - 1}");
            if (i % 7 == 0) store.Delete($"k{i % 4}", $"r{i - 3}");
        });

        Assert.True(store.Count <= 50);
        // Not r1999: Parallel.For may save it early and 50 later saves evict it. A save after the race is kept.
        Save(store, "k3", "r-after");
        Assert.NotNull(store.TryGet("k3", "r-after"));
    }
}
