namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// Where responses made with <c>store: true</c> are kept, for GET /v1/responses/{id}, its input_items, DELETE, and a
/// later request's previous_response_id. Scoped by gateway key: one key never sees another's responses. Thread-safe.
/// </summary>
public interface IResponseStore
{
    /// <summary>Keeps a response until <paramref name="expiresAt"/> (or until the store evicts it); the same key and id again replaces it. False when it was not kept (too large for the store).</summary>
    bool Save(string keyId, string responseId, byte[] inputItems, byte[] outputItems, byte[] response, DateTimeOffset expiresAt);

    /// <summary>The response, or null when there is none for this key (never stored, expired, evicted, or another key's).</summary>
    StoredResponse? TryGet(string keyId, string responseId);

    /// <summary>Forgets the response; false when this key had none by that id.</summary>
    bool Delete(string keyId, string responseId);
}
