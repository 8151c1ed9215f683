using Proxy.Config;

namespace Proxy.Providers.Mock;

/// <summary>
/// "mock": a model built into the gateway. Deterministic text, real SSE chunks, paced like a real model,
/// usage reported. It is a product feature: users load-test the gateway's own overhead with it without paying for tokens.
/// </summary>
public sealed class MockKind : IProviderKind
{
    public string Type => "mock";

    public Uri? DefaultBaseUrl => null;

    public bool UsesNetwork => false;

    public IReadOnlyCollection<string> ExtraFields => MockSettings.Fields;

    public void Validate(ProviderSettings settings, Action<string, string> error) => MockSettings.Read(settings, error);

    public ProviderAdapter CreateAdapter(ProviderSettings settings) =>
        new MockAdapter(settings, new HttpMessageInvoker(new MockHandler(MockSettings.Read(settings, null), TimeProvider.System)));
}
