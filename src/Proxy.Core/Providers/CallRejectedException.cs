using Proxy.Errors;

namespace Proxy.Providers;

/// <summary>
/// Thrown by an adapter that translates (not passes through) to turn a call away with an OpenAI-shaped error:
/// from <see cref="ProviderAdapter.BuildRequest"/> when the request cannot be expressed in the provider's API
/// (n &gt; 1, an operation the provider type lacks), or from <see cref="ProviderAdapter.TranscodeResponse"/> when a
/// 2xx answer is really a refusal (a prompt the provider blocked). The relay answers with <see cref="Failure"/>.
/// </summary>
public sealed class CallRejectedException : Exception
{
    public CallRejectedException(UpstreamFailure failure) : base(failure.Message) => Failure = failure;

    public CallRejectedException() : this("The request cannot be sent to this provider.")
    {
    }

    /// <summary>A 400 invalid_request_error with this message.</summary>
    public CallRejectedException(string message) : base(message) => Failure = Invalid(message);

    public CallRejectedException(string message, Exception innerException) : base(message, innerException) => Failure = Invalid(message);

    public UpstreamFailure Failure { get; }

    private static UpstreamFailure Invalid(string message) => new(400, OpenAiError.InvalidRequest, null, message, false);
}
