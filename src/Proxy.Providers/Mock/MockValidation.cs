using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>
/// The mock refuses what the real API refuses, with the same 400: users load-test against it, and a client that works
/// against the mock must not then fail against OpenAI. The gateway itself reads only a few top-level fields, so without
/// this a body with, say, <c>messages</c> as an object would get a 200. One pass with Utf8JsonReader; a valid body
/// allocates nothing.
/// </summary>
internal static class MockValidation
{
    /// <summary>The ingress accepted the body at this depth; read it with the same.</summary>
    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };

    /// <summary>The fault the real API would report for <paramref name="body"/>, or null when it would accept it.</summary>
    public static MockFault? Check(Operation operation, ReadOnlySpan<byte> body)
    {
        try
        {
            return operation == Operation.Embeddings ? MockEmbeddingsRequest.Check(body) : MockChatRequest.Check(body);
        }
        catch (JsonException)
        {
            // The ingress has parsed the whole body already; if its rules ever grow looser than these, answer as before.
            return null;
        }
    }
}
