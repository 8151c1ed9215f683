namespace Proxy.Providers.Bedrock.EventStream;

/// <summary>
/// The upstream's application/vnd.amazon.eventstream bytes are not a valid frame (bad CRC, impossible length,
/// malformed header). Nothing after it can be trusted, so the stream ends with an error instead of passing garbage on.
/// </summary>
public sealed class EventStreamFormatException : Exception
{
    public EventStreamFormatException()
    {
    }

    public EventStreamFormatException(string message)
        : base(message)
    {
    }

    public EventStreamFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
