using System.Text;
using Proxy.Config;
using Proxy.Ingress;
using Proxy.Providers.Mock;
using Proxy.Routing;

namespace Proxy.Providers.Tests.Mock;

/// <summary>The mock adapter and calls to it, built as the pipeline builds them.</summary>
internal static class MockTestSupport
{
    public static readonly ProviderSettings Settings = new() { Name = "mock", Type = "mock" };

    public static ProviderAdapter Adapter() => new MockKind().CreateAdapter(Settings);

    /// <summary>
    /// A call carrying <paramref name="body"/> byte for byte. The facts are peeked when the ingress accepts the body; some
    /// bodies here (stream: "yes", max_tokens: 0) the ingress refuses itself, and the mock must still refuse them alone.
    /// </summary>
    public static UpstreamCall Call(string body, Operation operation = Operation.ChatCompletions)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        RequestPeeker.TryPeek(bytes, out var facts);
        var target = new Target { Provider = Settings, UpstreamModel = "mock-1", UpstreamModelJson = "\"mock-1\""u8.ToArray(), SameNameUpstream = false };
        return new UpstreamCall(operation, bytes, facts, target, "req-test");
    }

    /// <summary>Builds the request for <paramref name="body"/> and returns the refusal, asserting its 400 invalid_request_error.</summary>
    public static CallRejectedException Refusal(string body, Operation operation = Operation.ChatCompletions)
    {
        using var adapter = Adapter();
        var call = Call(body, operation);
        var e = Assert.Throws<CallRejectedException>(() => adapter.BuildRequest(call).Dispose());
        Assert.Equal(400, e.Failure.Status);
        Assert.Equal("invalid_request_error", e.Failure.Type);
        Assert.False(e.Failure.Retryable);
        return e;
    }

    public static void AssertRefused(string body, string message, string? param, string? code, Operation operation = Operation.ChatCompletions)
    {
        var e = Refusal(body, operation);
        Assert.Equal((message, param, code), (e.Failure.Message, e.Param, e.Failure.Code));
    }

    public static void AssertAccepted(string body, Operation operation = Operation.ChatCompletions)
    {
        using var adapter = Adapter();
        using var request = adapter.BuildRequest(Call(body, operation));
        Assert.NotNull(request);
    }

    /// <summary>A chat body around <paramref name="messages"/> (JSON) and any further top-level fields.</summary>
    public static string Chat(string messages, string extra = "") =>
        $$"""{"model":"mock-gpt","messages":{{messages}}{{(extra.Length > 0 ? "," + extra : "")}}}""";

    public const string Hello = """[{"role":"user","content":"hi"}]""";
}
