using Proxy.Errors;

namespace Proxy.Providers;

/// <summary>
/// The one way a translating adapter turns a call away itself, with the error the client gets (<see cref="Failure"/>,
/// and the request field at fault in <see cref="Param"/>):
/// <list type="bullet">
/// <item>from <see cref="ProviderAdapter.BuildRequest"/>, before anything is sent: the request asks for something the
/// provider's API cannot do (<see cref="Unsupported"/>: 400 <c>unsupported_by_provider</c>; silently dropping it would
/// hand back a different answer than the one asked for), or is malformed in a way only the translation finds
/// (<see cref="Invalid"/>: 400 <c>invalid_request_body</c>, as the ingress answers a malformed body);</item>
/// <item>from <see cref="ProviderAdapter.TranscodeResponse"/>: a 2xx answer that is really a refusal (a prompt the
/// provider blocked), with whatever failure the adapter makes of it.</item>
/// </list>
/// A 2xx answer the adapter cannot read is not a refusal but the upstream's fault: <see cref="InvalidUpstreamAnswerException"/>.
/// </summary>
public sealed class CallRejectedException : Exception
{
    public const string UnsupportedCode = "unsupported_by_provider";
    public const string InvalidCode = "invalid_request_body";

    public CallRejectedException(UpstreamFailure failure, string? param = null) : base(failure.Message)
    {
        Failure = failure;
        Param = param;
    }

    public CallRejectedException() : this("The request cannot be sent to this provider.")
    {
    }

    /// <summary>Unsupported by the provider (see <see cref="Unsupported"/>).</summary>
    public CallRejectedException(string message) : this(Refusal(UnsupportedCode, message))
    {
    }

    public CallRejectedException(string message, Exception innerException) : base(message, innerException) => Failure = Refusal(UnsupportedCode, message);

    public UpstreamFailure Failure { get; }

    /// <summary>The request field at fault, in OpenAI's dotted form (<c>messages[2].content[0].image_url</c>); null when no one field is.</summary>
    public string? Param { get; }

    /// <summary>A valid OpenAI request this provider cannot honour (n &gt; 1, json_object on Claude, a file_id...).</summary>
    public static CallRejectedException Unsupported(string message, string? param = null) => new(Refusal(UnsupportedCode, message), param);

    /// <summary>A request that is malformed (a missing field, a wrong type) where the ingress's peek could not see it.</summary>
    public static CallRejectedException Invalid(string message, string? param = null) => new(Refusal(InvalidCode, message), param);

    // Not retryable: the same request fails the same way on this provider; the client has to change it.
    private static UpstreamFailure Refusal(string code, string message) => new(400, OpenAiError.InvalidRequest, code, message, false);
}
