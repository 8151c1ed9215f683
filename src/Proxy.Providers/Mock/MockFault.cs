using Proxy.Errors;

namespace Proxy.Providers.Mock;

/// <summary>
/// One refusal of a request body, in OpenAI's own words: message, <c>param</c> and <c>code</c> as the real API writes
/// them (the sentences are in <see cref="MockFaults"/>). Made only when a body is refused, so a valid body allocates none.
/// </summary>
internal sealed class MockFault(int rank, string message, string? param, string? code)
{
    /// <summary>
    /// Where the real API's checks report this fault: with several faults in one body it names the one its schema checks
    /// first (messages before tools before temperature...), not the first in the document. Lower is reported first.
    /// </summary>
    public int Rank { get; } = rank;

    public string Message { get; } = message;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    /// <summary>Keeps the fault the real API would report: the lowest rank, and of equal ranks the first found.</summary>
    public static void Keep(ref MockFault? best, MockFault? candidate)
    {
        if (candidate is not null && (best is null || candidate.Rank < best.Rank)) best = candidate;
    }

    /// <summary>
    /// The client's 400 through the adapter seam: the relay writes it as <c>{"error":{...}}</c>, the request log records an
    /// invalid_request_error, and it counts against no target (no retry, no breaker failure, no upstream error).
    /// </summary>
    public CallRejectedException ToException() => new(new UpstreamFailure(400, OpenAiError.InvalidRequest, Code, Message, false), Param);
}
