using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.Config;
using Proxy.Errors;

namespace Proxy.Pipeline;

/// <summary>
/// GET/DELETE /v1/responses/{id} (and input_items) for a response that a provider answered and keeps itself
/// (passthrough to OpenAI or Azure OpenAI): the request goes to that provider with its credentials, and its answer,
/// status and body, comes back as it is, read by read (a retrieve with <c>stream=true</c> is an event stream).
/// Waits are bounded by the provider's first-byte timeout for the answer to begin and its idle timeout between reads.
/// As on the request path, a 401/403 or a redirect from the provider is the gateway's credential or base_url at fault,
/// not the client's: those become the gateway's own 502.
/// </summary>
internal static class StoredResponseForwarding
{
    private const int MaxErrorBody = 64 * 1024;

    /// <summary>Sends <paramref name="request"/> (disposed here) and relays the answer; true when the provider answered 2xx.</summary>
    public static async Task<bool> ForwardAsync(HttpContext ctx, ProviderSettings provider, HttpRequestMessage request, ILogger logger, string requestId)
    {
        var clientAborted = ctx.RequestAborted;
        using var sent = request;
        using var timer = new AttemptTimer(clientAborted);
        timer.ArmAt(Deadlines.From(Stopwatch.GetTimestamp(), provider.FirstByteTimeout));
        HttpResponseMessage response;
        try
        {
            response = await provider.Adapter.Invoker.SendAsync(sent, timer.Token);
        }
        catch (Exception e) when (clientAborted.IsCancellationRequested)
        {
            _ = e;
            Log.ClientGone(logger, requestId);
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            bool timedOut = e is OperationCanceledException;
            var message = timedOut
                ? $"Upstream '{provider.Name}' did not answer within {provider.FirstByteTimeout.TotalSeconds:0.###}s (first byte timeout)."
                : $"Upstream '{provider.Name}' is unreachable: {e.Message}";
            Log.UpstreamFailed(logger, requestId, provider.Name, timedOut ? Routing.FailureReasons.FirstByteTimeout : Routing.FailureReasons.Unreachable, message);
            await ErrorResponses.WriteAsync(ctx, timedOut ? 504 : 502, message, timedOut ? OpenAiError.Timeout : OpenAiError.Upstream,
                code: timedOut ? "upstream_timeout" : "upstream_unreachable");
            return false;
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            if (status is 401 or 403 or (>= 300 and < 400))
            {
                await AnswerGatewayFaultAsync(ctx, provider, response, timer, logger, requestId);
                return false;
            }
            var res = ctx.Response;
            res.StatusCode = status;
            res.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
            if (response.Content.Headers.ContentLength is { } length) res.ContentLength = length;
            try
            {
                timer.ArmAt(Deadlines.From(Stopwatch.GetTimestamp(), provider.IdleTimeout));
                await using var body = await response.Content.ReadAsStreamAsync(timer.Token);
                var writer = res.BodyWriter;
                while (true)
                {
                    int n = await body.ReadAsync(writer.GetMemory(8192), timer.Token);
                    if (n == 0) break;
                    writer.Advance(n);
                    var flush = await writer.FlushAsync(clientAborted);
                    if (flush.IsCompleted || flush.IsCanceled) return false;
                    timer.ArmAt(Deadlines.From(Stopwatch.GetTimestamp(), provider.IdleTimeout));
                }
            }
            catch (Exception e) when (clientAborted.IsCancellationRequested)
            {
                _ = e;
                Log.ClientGone(logger, requestId);
                return false;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                // Part of the provider's answer may be out already: a broken answer must not read as a whole one.
                var message = e is OperationCanceledException
                    ? $"Upstream '{provider.Name}' stopped sending its answer: no data for {provider.IdleTimeout.TotalSeconds:0.###}s (idle timeout)."
                    : $"Upstream '{provider.Name}' dropped the connection mid-answer: {e.Message}";
                Log.UpstreamFailed(logger, requestId, provider.Name, Routing.FailureReasons.Incomplete, message);
                if (res.HasStarted) ctx.Abort();
                else
                {
                    res.ContentLength = null;
                    await ErrorResponses.WriteAsync(ctx, 502, message, OpenAiError.Upstream, code: "upstream_incomplete");
                }
                return false;
            }
            return status is >= 200 and < 300;
        }
    }

    /// <summary>The provider refused the gateway's credentials or redirected it: the gateway's 502, saying so, as the request path does.</summary>
    private static async Task AnswerGatewayFaultAsync(HttpContext ctx, ProviderSettings provider, HttpResponseMessage response, AttemptTimer timer,
        ILogger logger, string requestId)
    {
        int status = (int)response.StatusCode;
        using var body = new PooledBuffer(4096);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(timer.Token);
            int n;
            while (body.Length < MaxErrorBody && (n = await stream.ReadAsync(body.GetMemory(4096), timer.Token)) > 0) body.Advance(n);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            // The status says what happened; a body cut short only loses detail.
        }
        var failure = provider.Adapter.ClassifyError(status, response.Headers, body.Span);
        Log.UpstreamFailed(logger, requestId, provider.Name, Metrics.UpstreamErrors.ForStatus(status), $"HTTP {status}: {failure.Message}");
        await ErrorResponses.WriteAsync(ctx, failure.Status, failure.Message, failure.Type, code: failure.Code);
    }
}
