namespace Proxy.Providers.Gemini;

/// <summary>
/// Gemini function calls carry no id the OpenAI shape can rely on, so the gateway makes one: stable for a given request
/// and call position (<c>call_&lt;hash of the request id&gt;_&lt;n&gt;</c>), unique across the turns of a conversation
/// because each turn is its own request.
/// Gemini 3 also returns a <c>thoughtSignature</c> with a function call and refuses the next turn unless it comes back
/// with that call. OpenAI clients replay tool calls by id and drop fields they do not know, so the signature travels
/// inside the id, after <see cref="Marker"/>, and is put back on the functionCall part when the client replays the call.
/// </summary>
public static class ToolCallIds
{
    /// <summary>Not in the base64 alphabets (standard or URL-safe), so the last one in an id is always the marker.</summary>
    private const string Marker = ".sig.";

    public static string Create(string requestId, int index, string? thoughtSignature)
    {
        var id = $"call_{Fnv1a(requestId):x16}_{index}";
        return string.IsNullOrEmpty(thoughtSignature) ? id : id + Marker + thoughtSignature;
    }

    /// <summary>The thought signature an id carries, or empty.</summary>
    public static ReadOnlySpan<char> Signature(string id)
    {
        int at = id.LastIndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? default : id.AsSpan(at + Marker.Length);
    }

    private static ulong Fnv1a(string s)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in s)
        {
            hash ^= c;
            hash *= 1099511628211;
        }
        return hash;
    }
}
