namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// Neutral answer events gathered into one Responses response object, written at the end (status completed, or
/// incomplete with its reason; output items; usage; the echoed request settings). A failed answer is not written: the
/// relay answers with the error instead (<see cref="Answers.AnswerWriter.Failure"/>).
/// </summary>
public sealed class ResponseBodyWriter(long created, ResponseRequestFacts facts, string responseId) : ResponseAnswerWriter(created, facts, responseId)
{
    protected override void OnEnded()
    {
        Raw(ResponseJson);
        Wrote();
    }

    protected override void OnFailed(string message, string type, string? code)
    {
    }
}
