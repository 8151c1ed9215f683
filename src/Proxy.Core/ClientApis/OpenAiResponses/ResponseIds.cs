namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// The ids a translated answer carries: <c>resp_&lt;base&gt;</c> for the response, <c>msg_/rs_/fc_&lt;base&gt;_&lt;n&gt;</c>
/// for its output items, where the base comes from the request id. The base keeps item ids unique across a stored
/// conversation (each turn is its own request), which the input-items list needs for its cursors.
/// </summary>
public static class ResponseIds
{
    /// <summary>
    /// The request id made safe for a URL path segment (<c>/v1/responses/{id}</c>) and a JSON string written raw: the
    /// gateway's own <c>req_</c> prefix dropped, anything but letters, digits, '_' and '-' replaced (a client may send
    /// its own x-request-id with any printable character).
    /// </summary>
    public static string BaseOf(string requestId)
    {
        var id = requestId.StartsWith("req_", StringComparison.Ordinal) ? requestId.AsSpan(4) : requestId.AsSpan();
        if (id.IsEmpty) return "0";
        return Sanitize(id);
    }

    public static string ResponseId(string requestId) => "resp_" + BaseOf(requestId);

    /// <summary>The base of a response id made by <see cref="ResponseId"/> (its text after <c>resp_</c>).</summary>
    public static string BaseOfResponse(string responseId) =>
        responseId.StartsWith("resp_", StringComparison.Ordinal) ? responseId[5..] : responseId;

    public static string Item(string prefix, string responseBase, int n) => $"{prefix}_{responseBase}_{n}";

    private static string Sanitize(ReadOnlySpan<char> id)
    {
        var chars = new char[id.Length];
        for (int i = 0; i < id.Length; i++)
        {
            char c = id[i];
            chars[i] = char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-' ? c : '_';
        }
        return new string(chars);
    }
}
