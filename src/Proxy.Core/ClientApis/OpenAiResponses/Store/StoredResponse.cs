namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// One stored response: its object as the client got it, and the conversation behind it as Responses items (JSON
/// arrays): <see cref="InputItems"/> is everything that went in, the history of earlier turns included, so the next
/// turn's history is <see cref="InputItems"/> then <see cref="OutputItems"/> from this one record.
/// </summary>
public sealed class StoredResponse(string keyId, string responseId, byte[] inputItems, byte[] outputItems, byte[] response, DateTimeOffset expiresAt)
    : ResponseStoreEntry(keyId, responseId, expiresAt)
{
    public byte[] InputItems { get; } = inputItems;

    public byte[] OutputItems { get; } = outputItems;

    public byte[] Response { get; } = response;

    public override long Size => InputItems.Length + OutputItems.Length + Response.Length + 2L * (KeyId.Length + ResponseId.Length) + 64;
}
