namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// Where responses made with <c>store: true</c> are kept, for GET /v1/responses/{id}, its input_items, DELETE, and a
/// later request's previous_response_id; and, for responses a provider answered and keeps itself (passthrough to
/// OpenAI or Azure OpenAI), which provider that was. Scoped by gateway key: one key never sees another's responses.
/// Thread-safe.
/// </summary>
public interface IResponseStore
{
    /// <summary>Keeps a response until <paramref name="expiresAt"/> (or until the store evicts it); the same key and id again replaces it. False when it was not kept (too large for the store).</summary>
    bool Save(string keyId, string responseId, byte[] inputItems, byte[] outputItems, byte[] response, DateTimeOffset expiresAt);

    /// <summary>Remembers that <paramref name="provider"/> (its configured name) answered and keeps <paramref name="responseId"/>, under the same bounds and expiry rules as <see cref="Save"/>.</summary>
    bool SavePassthrough(string keyId, string responseId, string provider, DateTimeOffset expiresAt);

    /// <summary>The response, or null when there is none for this key (never stored, expired, evicted, another key's, or one a provider keeps).</summary>
    StoredResponse? TryGet(string keyId, string responseId);

    /// <summary>Which provider keeps this response for this key, or null when none is remembered.</summary>
    PassthroughResponse? TryGetPassthrough(string keyId, string responseId);

    /// <summary>Forgets the response or the provider that keeps it; false when this key had neither by that id.</summary>
    bool Delete(string keyId, string responseId);
}
