using System.Text;
using BenchmarkDotNet.Attributes;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Providers;
using Proxy.Providers.Mock;
using Proxy.Routing;

namespace Proxy.Benchmarks;

/// <summary>
/// The built-in mock's own cost per call, without the pipeline around it: build the request (which validates the body
/// as the real API would) and answer it in process, plain chat and embeddings.
/// </summary>
[MemoryDiagnoser]
public class MockBenchmarks
{
    private static readonly byte[] EmbeddingsBody = Encoding.UTF8.GetBytes(
        """{"model":"bench","input":["The food was delicious and the waiter was friendly.","A second input to embed."]}""");

    private ProviderAdapter _adapter = null!;
    private UpstreamCall _chat;
    private UpstreamCall _embeddings;

    [GlobalSetup]
    public void Setup()
    {
        var settings = new ProviderSettings { Name = "mock", Type = "mock" };
        _adapter = new MockKind().CreateAdapter(settings);
        var target = new Target { Provider = settings, UpstreamModel = "mock-1", UpstreamModelJson = "\"mock-1\""u8.ToArray(), SameNameUpstream = false };
        _chat = Call(Operation.ChatCompletions, InProcessGateway.ChatBody, target);
        _embeddings = Call(Operation.Embeddings, EmbeddingsBody, target);
    }

    [GlobalCleanup]
    public void Cleanup() => _adapter.Dispose();

    /// <summary>Building the request alone: for the mock, that is the validation of the body.</summary>
    [Benchmark]
    public object BuildChatRequest() => _adapter.BuildRequest(_chat);

    /// <summary>The validation alone, on the same body as the pipeline benchmarks (compare HotPieceBenchmarks.Peek).</summary>
    [Benchmark]
    public bool ValidateChat() => MockValidation.Check(Operation.ChatCompletions, InProcessGateway.ChatBody) is null;

    [Benchmark]
    public Task<long> ChatPlain() => SendAsync(_chat);

    [Benchmark]
    public Task<long> Embeddings() => SendAsync(_embeddings);

    private async Task<long> SendAsync(UpstreamCall call)
    {
        using var request = _adapter.BuildRequest(call);
        using var response = await _adapter.Invoker.SendAsync(request, CancellationToken.None);
        return (await response.Content.ReadAsByteArrayAsync()).Length;
    }

    private static UpstreamCall Call(Operation operation, byte[] body, Target target)
    {
        if (RequestPeeker.TryPeek(body, out var facts) is { } error) throw new InvalidOperationException(error.Message);
        return new UpstreamCall(operation, body, facts, target, "bench");
    }
}
