namespace Proxy.Providers;

/// <summary>
/// Thrown by a translating adapter's TranscodeResponse when the provider's 2xx answer cannot be read (not JSON, or
/// missing what every answer has). The upstream's fault, not the client's: a 502 <c>upstream_invalid_answer</c> that
/// says what was wrong, counted as an upstream error. (A 2xx that reads fine but is a refusal is a
/// <see cref="CallRejectedException"/>.)
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
