namespace Proxy.Ingress;

/// <summary>
/// The few fields the gateway needs from a request body, and where they sit in it, so the original bytes
/// can go upstream with at most a splice. Offsets are into the body as received.
/// </summary>
public struct RequestFacts
{
    /// <summary>Byte range of the model value, quotes included; length 0 when absent.</summary>
    public int ModelStart;
    public int ModelLength;

    public bool Stream;

    /// <summary>Whether the client asked for the usage chunk (stream_options.include_usage).</summary>
    public bool IncludeUsage;

    /// <summary>Byte range of the stream_options value, quotes/braces included; length 0 when absent.</summary>
    public int StreamOptionsStart;
    public int StreamOptionsLength;

    /// <summary>Byte range of the include_usage value inside stream_options; length 0 when absent.</summary>
    public int IncludeUsageStart;
    public int IncludeUsageLength;

    /// <summary>stream_options is an object (the peeker accepts an object or null).</summary>
    public bool StreamOptionsIsObject;

    /// <summary>stream_options is an object with at least one field (so an insert needs a comma).</summary>
    public bool StreamOptionsHasFields;

    /// <summary>Offset of the closing brace of the top-level object.</summary>
    public int ObjectEnd;

    /// <summary>max_completion_tokens, else max_tokens; 0 when the client set none.</summary>
    public int MaxTokens;

    public readonly bool HasModel => ModelLength > 0;
}
