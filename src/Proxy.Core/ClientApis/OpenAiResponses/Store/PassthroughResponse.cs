namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// A response that a provider speaking the Responses API (OpenAI, Azure OpenAI) answered and keeps itself: the gateway
/// holds only which provider, by its configured name, so GET/DELETE /v1/responses/{id} can be forwarded there.
/// </summary>
public sealed class PassthroughResponse(string keyId, string responseId, string provider, DateTimeOffset expiresAt)
    : ResponseStoreEntry(keyId, responseId, expiresAt)
{
    /// <summary>The configured name of the provider that answered (looked up again in the config in force when forwarding).</summary>
    public string Provider { get; } = provider;

    public override long Size => 2L * (KeyId.Length + ResponseId.Length + Provider.Length) + 64;
}
