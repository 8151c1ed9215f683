using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Proxy.Accounting;
using Microsoft.Extensions.Logging;
using Proxy.Config;
using Proxy.Errors;
using Proxy.Ingress;
using Proxy.Keys;
using Proxy.Metrics;
using Proxy.Tracing;
using Proxy.Providers;
using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// The request path for the OpenAI-shaped operations: auth, body, peek, route, forward, relay.
/// Stateless; one instance serves every request.
/// </summary>
public sealed class ProxyHandler(ConfigHolder config, IRequestLog log, GatewayMetrics metrics, TimeProvider time, ILogger<ProxyHandler> logger)
{

    public Task ChatCompletions(HttpContext ctx) => HandleAsync(ctx, Operation.ChatCompletions);

    public Task Embeddings(HttpContext ctx) => HandleAsync(ctx, Operation.Embeddings);

    private async Task HandleAsync(HttpContext ctx, Operation operation)
    {
        long start = Stopwatch.GetTimestamp();
        var snapshot = config.Current;
        var requestId = RequestIds.Assign(ctx);
        using var outcome = new CallOutcome(start, time.GetUtcNow(), snapshot.Logs.BodyCap);
        using var body = new PooledBuffer((int)Math.Min(ctx.Request.ContentLength ?? 16 * 1024, snapshot.Server.MaxBodyBytes));
        // One method, not two: a second async method would box a second state machine on every request.
        // Every return below still runs the finally, so every request leaves exactly one record.
        metrics.InFlight.Increment();
        var activity = GatewayTracing.StartRequest(ctx, operation);
        try
        {
            var ct = ctx.RequestAborted;
            switch (Authenticator.Authenticate(ctx.Request, snapshot, out var key))
            {
                case Authenticator.Outcome.Missing:
                    metrics.Reject(RejectReason.MissingKey);
                    outcome.ErrorClass = OpenAiError.Authentication;
                    await ErrorResponses.MissingKey(ctx);
                    return;
                case Authenticator.Outcome.Invalid:
                    metrics.Reject(RejectReason.InvalidKey);
                    outcome.ErrorClass = OpenAiError.Authentication;
                    await ErrorResponses.InvalidKey(ctx);
                    return;
            }
            outcome.KeyId = key!.Id;

            try
            {
                if (!await RequestBody.ReadAsync(ctx.Request, body, snapshot.Server.MaxBodyBytes, ct))
                {
                    await Fail(ctx, outcome, 413, $"Request body is larger than this gateway accepts ({snapshot.Server.MaxBodyBytes} bytes).",
                        OpenAiError.InvalidRequest, code: "request_too_large");
                    return;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                outcome.ErrorClass = "client_closed";
                return;
            }
            catch (BadHttpRequestException e)
            {
                await Fail(ctx, outcome, e.StatusCode, "The request body could not be read: " + e.Message, OpenAiError.InvalidRequest);
                return;
            }

            if (RequestPeeker.TryPeek(body.Span, out var facts) is { } peekError)
            {
                await Fail(ctx, outcome, 400, peekError.Message, OpenAiError.InvalidRequest, peekError.Param, "invalid_request_body");
                return;
            }
            outcome.Stream = facts.Stream;
            if (!facts.HasModel)
            {
                await Fail(ctx, outcome, 400, "You must provide a model parameter.", OpenAiError.InvalidRequest, "model", "missing_model");
                return;
            }
            if (operation == Operation.Embeddings && facts.Stream)
            {
                await Fail(ctx, outcome, 400, "Embeddings cannot be streamed.", OpenAiError.InvalidRequest, "stream");
                return;
            }

            var route = FindRoute(snapshot, body.Span.Slice(facts.ModelStart, facts.ModelLength));
            if (route is null)
            {
                var name = ModelName(body.Span, facts);
                await Fail(ctx, outcome, 404, $"The model '{name}' does not exist on this gateway or you do not have access to it.",
                    OpenAiError.NotFound, "model", "model_not_found");
                return;
            }
            outcome.Route = route;
            GatewayTracing.Routed(activity, operation, route.Name);
            if (!key.MayUse(route))
            {
                metrics.Reject(RejectReason.ModelNotAllowed);
                await Fail(ctx, outcome, 403, $"Key '{key.Id}' is not allowed to use model '{route.Name}'.",
                    OpenAiError.Permission, "model", "model_not_allowed");
                return;
            }

            outcome.Target = route.Targets[0];
            var call = new UpstreamCall(operation, body.Memory, facts, route.Targets[0], requestId) { ClientHeaders = ctx.Request.Headers };
            var attempt = GatewayTracing.StartAttempt(call, attempt: 1);
            try
            {
                await UpstreamRelay.ForwardAsync(ctx, call, outcome, logger, ct);
            }
            finally
            {
                GatewayTracing.EndAttempt(attempt, outcome);
                attempt?.Dispose();
            }
        }
        finally
        {
            var record = Records.Build(ctx, operation, requestId, body, outcome);
            metrics.Observe(record, outcome);
            // After the observation: a scrape that sees no request in flight sees every finished one counted.
            metrics.InFlight.Decrement();
            GatewayTracing.EndRequest(activity, record, outcome);
            activity?.Dispose();
            log.TryWrite(record);
        }
    }

    private static Task Fail(HttpContext ctx, CallOutcome outcome, int status, string message, string type, string? param = null, string? code = null)
    {
        outcome.ErrorClass = type;
        return ErrorResponses.WriteAsync(ctx, status, message, type, param, code);
    }

    /// <summary>Route lookup by the model's JSON string without allocating: unescape to a stack buffer, then an alternate-key lookup.</summary>
    internal static Route? FindRoute(GatewayConfig snapshot, ReadOnlySpan<byte> modelJson)
    {
        var reader = new System.Text.Json.Utf8JsonReader(modelJson);
        reader.Read();
        Span<char> chars = stackalloc char[256];
        int max = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (max > chars.Length) return null; // longer than any route name a config could sanely hold
        int n = reader.CopyString(chars);
        return snapshot.RoutesBySpan.TryGetValue(chars[..n], out var route) ? route : null;
    }

    private static string ModelName(ReadOnlySpan<byte> body, RequestFacts facts)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body.Slice(facts.ModelStart, facts.ModelLength));
        reader.Read();
        var name = reader.GetString() ?? "";
        return name.Length > 200 ? name[..200] + "…" : name;
    }
}
