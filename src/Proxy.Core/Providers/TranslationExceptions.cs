namespace Proxy.Providers;

/// <summary>
/// Thrown by a translating adapter's BuildRequest when the client's request asks for something the provider's API
/// cannot do (a JSON mode without a schema, n &gt; 1...). The client gets a 400 naming <see cref="Param"/>: silently
/// dropping what was asked for would hand back a different answer than the one requested.
/// </summary>
public sealed class UnsupportedRequestException : Exception
{
    public UnsupportedRequestException(string message, string? param = null) : base(message) => Param = param;

    public UnsupportedRequestException()
    {
    }

    public UnsupportedRequestException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The request field at fault, in OpenAI's dotted form (<c>messages[2].content[0].image_url</c>).</summary>
    public string? Param { get; }
}

/// <summary>
/// Thrown by a translating adapter's TranscodeResponse when the provider's successful answer cannot be read
/// (not JSON, or missing what every answer has). The client gets a 502 that says so.
/// </summary>
public sealed class InvalidUpstreamAnswerException : Exception
{
    public InvalidUpstreamAnswerException(string message) : base(message)
    {
    }

    public InvalidUpstreamAnswerException()
    {
    }

    public InvalidUpstreamAnswerException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
