using Microsoft.AspNetCore.Http;
using Proxy.Accounting;
using Proxy.Errors;
using Proxy.Metrics;

namespace Proxy.Pipeline;

/// <summary>The request path's answers to what the client or the gateway got wrong before or outside an upstream call.</summary>
public sealed partial class ProxyHandler
{
    private static Task UnsupportedMediaType(HttpContext ctx, CallOutcome outcome)
    {
        var sent = ctx.Request.ContentType!;
        if (sent.Length > 100) sent = sent[..100] + "…";
        return Fail(ctx, outcome, 415, $"Content-Type '{sent}' is not supported: send the request body as '{RequestBody.Json}'.",
            OpenAiError.InvalidRequest, code: "unsupported_media_type");
    }

    /// <summary>
    /// Kestrel could not read the body: its framing is broken (a chunk size that is not hex or overflows, a chunk
    /// without its CRLF). The client's fault, so a 400, on a connection closed after it (its framing cannot be trusted
    /// for another request). When the client had closed its side mid-body, Kestrel has already closed the response and
    /// the answer is dropped: that is the client leaving, not a 400 it received.
    /// </summary>
    private static async Task UnreadableBodyAsync(HttpContext ctx, CallOutcome outcome, Exception e)
    {
        int status = e is BadHttpRequestException { StatusCode: >= 400 and < 500 } bad ? bad.StatusCode : 400;
        ctx.Response.Headers.Connection = "close";
        outcome.ErrorClass = OpenAiError.InvalidRequest;
        if (!await ErrorResponses.TryWriteAsync(ctx, status, "The request body could not be read: " + e.Message, OpenAiError.InvalidRequest,
                code: "invalid_request_body", api: outcome.Api))
        {
            outcome.ErrorClass = ErrorClasses.ClientClosed;
            outcome.AnswerLost = true;
        }
    }

    /// <summary>
    /// A failure nothing on the request path expected (a bug), logged once here. The client gets a 500 in the OpenAI
    /// shape with its request id when nothing was sent yet; when an answer had begun, the connection is cut, so a
    /// truncated answer cannot pass for a complete one. The record keeps the status sent and the class server_error.
    /// </summary>
    private async Task UnexpectedAsync(HttpContext ctx, CallOutcome outcome, string requestId, Exception e)
    {
        if (e is OperationCanceledException or IOException && ctx.RequestAborted.IsCancellationRequested)
        {
            // A write to a client that had left (an error answer's flush): its leaving, not the gateway's failure.
            Log.ClientGone(logger, requestId);
            outcome.ErrorClass = ErrorClasses.ClientClosed;
            return;
        }
        Log.Unexpected(logger, requestId, e);
        outcome.ErrorClass = OpenAiError.Server;
        var response = ctx.Response;
        if (response.HasStarted)
        {
            ctx.Abort();
            return;
        }
        // Whatever an attempt had set (routing headers, a content length) does not describe this answer.
        response.Clear();
        response.Headers[RequestIds.Header] = requestId;
        await ErrorResponses.TryWriteAsync(ctx, 500, $"The gateway failed to handle this request; the failure is logged under request id {requestId}.",
            OpenAiError.Server, code: "internal_error", api: outcome.Api);
    }
}
