using System.Buffers;
using System.Text.Json;

namespace Proxy.ClientApis.OpenAiResponses.Store;

/// <summary>
/// Reads the id a provider gave a response it answered itself: a plain answer's top-level <c>id</c>, or the
/// <c>id</c> in <c>response.created</c>'s <c>response</c> object. Only ids that are safe to put in a URL path segment
/// are taken (OpenAI's and Azure's are <c>resp_</c> and hex): the gateway later forwards requests for exactly these
/// ids, so an id of <c>..</c> or one with a slash must never get that far.
/// </summary>
public static class PassthroughResponseIds
{
    private const int MaxLength = 256;

    private static readonly SearchValues<byte> Safe = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"u8);

    /// <summary>A response object's top-level "id"; null when it has none worth remembering (or is not JSON).</summary>
    public static string? OfResponse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject ? IdInObject(ref reader) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The "id" of a stream event's top-level "response" object (response.created); null when there is none.</summary>
    public static string? OfEvent(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isResponse = reader.ValueTextEquals("response"u8);
                reader.Read();
                if (isResponse && reader.TokenType == JsonTokenType.StartObject) return IdInObject(ref reader);
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>The reader is on an object's StartObject: its own "id", its nested values skipped.</summary>
    private static string? IdInObject(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (!isId)
            {
                reader.Skip();
                continue;
            }
            // Safe ids have no escapes, so the raw token is the id itself.
            if (reader.TokenType != JsonTokenType.String || reader.HasValueSequence || reader.ValueIsEscaped) return null;
            var raw = reader.ValueSpan;
            return raw.Length is > 0 and <= MaxLength && !raw.ContainsAnyExcept(Safe) ? System.Text.Encoding.ASCII.GetString(raw) : null;
        }
        return null;
    }
}
