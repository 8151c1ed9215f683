using System.Buffers;
using BenchmarkDotNet.Attributes;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Keys;
using Proxy.Providers;
using Proxy.Streaming;

namespace Proxy.Benchmarks;

/// <summary>The hot pieces one by one: peek, splice, key lookup, SSE pass-through.</summary>
[MemoryDiagnoser]
public class HotPieceBenchmarks
{
    private static readonly byte[] UpstreamModel = "\"gpt-4o-mini-2024-07-18\""u8.ToArray();
    private readonly byte[] _spliced = new byte[4096];
    private readonly ArrayBufferWriter<byte> _sse = new(16 * 1024);
    private RequestFacts _facts;
    private KeyTable _keys = null!;

    [GlobalSetup]
    public void Setup()
    {
        RequestPeeker.TryPeek(InProcessGateway.ChatBody, out _facts);
        var table = Enumerable.Range(0, 10_000).ToDictionary(i => KeyHash.Of("sk-gw-" + i), i => new VirtualKey { Id = "k" + i });
        table[KeyHash.Of(InProcessGateway.Key)] = new VirtualKey { Id = "bench" };
        _keys = new KeyTable(System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(table));
    }

    [Benchmark]
    public bool Peek() => RequestPeeker.TryPeek(InProcessGateway.ChatBody, out _) is null;

    [Benchmark]
    public int PeekAndSpliceModel()
    {
        RequestPeeker.TryPeek(InProcessGateway.StreamBody, out var facts);
        var edits = BodyEdits.Plan(facts, UpstreamModel, requestStreamUsage: true);
        return edits.CopyTo(InProcessGateway.StreamBody, _spliced);
    }

    [Benchmark]
    public VirtualKey? KeyLookupAmong10k() => _keys.Find(InProcessGateway.Key);

    [Benchmark]
    public int SsePassThrough()
    {
        _sse.ResetWrittenCount();
        var seq = new ReadOnlySequence<byte>(InProcessGateway.StreamAnswer);
        var state = new StreamState();
        OpenAiSseTranscoder.For(clientWantsUsage: false).Transcode(ref seq, _sse, ref state);
        return state.EventsWritten;
    }
}
