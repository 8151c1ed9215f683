using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Proxy.Accounting;
using Microsoft.Extensions.Logging;
using Proxy.ClientApis;
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
/// The request path: auth, body, peek, route, forward, relay, for every client API (<see cref="ClientApi"/>, chosen by
/// the endpoint: its error shape, its writers, its canonical form). Stateless; one instance serves every request.
/// </summary>
public sealed partial class ProxyHandler(ConfigHolder config, IRequestLog log, GatewayMetrics metrics, TimeProvider time, ILogger<ProxyHandler> logger,
    AdmissionGate admission, ClientApis.OpenAiResponses.Store.IResponseStore responses, Limits.LimitsStage limits,
    Budgets.BudgetsStage budgets, Cache.CacheStage cache)
{

    public Task ChatCompletions(HttpContext ctx) => HandleAsync(ctx, ClientApi.OpenAiChat);

    public Task Embeddings(HttpContext ctx) => HandleAsync(ctx, ClientApi.OpenAiEmbeddings);

    public Task Messages(HttpContext ctx) => HandleAsync(ctx, ClientApi.AnthropicMessages);

    public Task CountTokens(HttpContext ctx) => HandleAsync(ctx, ClientApi.AnthropicCountTokens);

    private async Task HandleAsync(HttpContext ctx, ClientApi api)
    {
        long start = Stopwatch.GetTimestamp();
        var operation = api.Operation;
        var snapshot = config.Current;
        var requestId = RequestIds.Assign(ctx);
        using var outcome = new CallOutcome(start, time.GetUtcNow(), snapshot.Logs.BodyCap) { Api = api };
        using var body = new PooledBuffer((int)Math.Min(ctx.Request.ContentLength ?? 16 * 1024, snapshot.Server.MaxBodyBytes));
        // The client's request as the canonical OpenAI chat request, made once when a target does not speak the client's API.
        CanonicalRequest? canonical = null;
        // The request's limit checks and the store's decision; null when no limit applies (or it was not reached).
        Limits.LimitCheck[]? limitChecks = null;
        Limits.LimitDecision? limitDecision = null;
        // The budgets the request is charged to after its answer; null when its key and team have none.
        Budgets.BudgetRule[]? budgetRules = null;
        // One method, not two: a second async method would box a second state machine on every request.
        // Every return below still runs the finally, so every request leaves exactly one record.
        metrics.InFlight.Increment();
        var activity = GatewayTracing.StartRequest(ctx, operation);
        // Past the cap a request is refused before its key is checked, its body read or a descriptor taken. Taken right
        // before the try, so the finally always gives the slot back.
        bool admitted = admission.TryEnter(snapshot.Server);
        try
        {
            var ct = ctx.RequestAborted;
            if (!admitted)
            {
                await admission.RefuseAsync(ctx, outcome, metrics, logger, requestId, admission.LimitFor(snapshot.Server));
                return;
            }
            switch (Authenticator.Authenticate(ctx.Request, snapshot, out var key))
            {
                case Authenticator.Outcome.Missing:
                    metrics.Reject(RejectReason.MissingKey);
                    outcome.ErrorClass = OpenAiError.Authentication;
                    await ErrorResponses.MissingKey(ctx, api);
                    return;
                case Authenticator.Outcome.Invalid:
                    metrics.Reject(RejectReason.InvalidKey);
                    outcome.ErrorClass = OpenAiError.Authentication;
                    await ErrorResponses.InvalidKey(ctx, api);
                    return;
            }
            outcome.KeyId = key!.Id;

            // After authentication, so a caller without a key learns nothing about the API, and before the body is
            // read, so a body that will be refused is not read at all.
            if (!RequestBody.IsJsonOrAbsent(ctx.Request.ContentType))
            {
                await UnsupportedMediaType(ctx, outcome);
                return;
            }

            try
            {
                if (!await RequestBody.ReadAsync(ctx.Request, body, snapshot.Server.MaxBodyBytes, ct))
                {
                    await Fail(ctx, outcome, 413, $"Request body is larger than this gateway accepts ({snapshot.Server.MaxBodyBytes} bytes).",
                        OpenAiError.InvalidRequest, code: "request_too_large");
                    return;
                }
            }
            catch (Exception e) when (RequestBody.ClientGone(e, ct))
            {
                outcome.ErrorClass = ErrorClasses.ClientClosed;
                return;
            }
            catch (Exception e) when (e is BadHttpRequestException or IOException)
            {
                await UnreadableBodyAsync(ctx, outcome, e);
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

            // Limits: after the route is known (its limits count) and before anything is stored or sent.
            if (Limits.LimitsStage.ChecksFor(key, route, body.Length, operation == Operation.CountTokens ? -1 : facts.MaxTokens, snapshot.Limits) is { } checks)
            {
                limitChecks = checks;
                long limitsStart = Stopwatch.GetTimestamp();
                limitDecision = await limits.AdmitAsync(checks, requestId, snapshot.Limits, ct);
                outcome.LimitsUs = Math.Max(1, (long)Stopwatch.GetElapsedTime(limitsStart).TotalMicroseconds);
                if (!await limits.AnswerAsync(ctx, outcome, checks, limitDecision)) return;
            }
            // Budgets: none may start once its key's or team's budget is spent.
            if (Budgets.BudgetsStage.RulesFor(key) is { } rules && !await budgets.AdmitAsync(ctx, outcome, budgetRules = rules, ct)) return;

            // A Responses request carries its own API: what its answer echoes, and the stored conversation it continues.
            if (api is ClientApis.OpenAiResponses.OpenAiResponsesApi && BeginResponse(body.Span, key, out var refused) is var own)
            {
                if (own is null)
                {
                    await Fail(ctx, outcome, refused!.Failure.Status, refused.Failure.Message, refused.Failure.Type, refused.Param, refused.Failure.Code);
                    return;
                }
                own.Finished = writer => SaveResponse(own, writer, body.Span, outcome);
                own.PassthroughNoted = id => SavePassthrough(own, id, outcome);
                outcome.Api = api = own;
            }

            // Response cache: after the limits (a hit is a request), before any provider; a miss is stored after its last byte (below).
            var cached = route.Cache is { } cachePolicy ? await cache.LookupAsync(ctx, outcome, cachePolicy, key, body.Memory, facts.Stream, ct) : null;
            if (cached is { Hit: true }) return;

            // Routing: each attempt goes to the target the route's strategy picks among the available ones; a failure
            // before anything reached the client may be tried again (Attempts.Next decides), and only the last one is
            // written. The loop lives here, not in a method of its own, so a request still has one state machine.
            var routing = AttemptState.Start();
            route.Budget?.OnRequest();
            int index = TargetPicker.Pick(route, ref routing, exclude: 0, out var transition);
            if (index < 0)
            {
                await NoTargetAsync(ctx, route, outcome, requestId);
                return;
            }
            Attempts.Transitioned(route, route.Targets[index], transition, logger);
            try
            {
                while (true)
                {
                    var target = route.Targets[index];
                    routing.Begin(index);
                    outcome.BeginAttempt(target, routing.Attempts);
                    RoutingHeaders.Set(ctx.Response, target, routing.Attempts);
                    var call = new UpstreamCall(operation, body.Memory, facts, target, requestId)
                    {
                        ClientHeaders = ctx.Request.Headers, Api = api, Created = outcome.StartedAt.ToUnixTimeSeconds(),
                    };
                    if (!api.IsCanonical && !call.PassesThrough) (canonical ??= new CanonicalRequest(api, body.Span, ctx.Request.Headers)).Apply(ref call);
                    var attempt = GatewayTracing.StartAttempt(call, routing.Attempts);
                    target.Latency?.Started();
                    try
                    {
                        if (canonical?.Refusal is { } refusal && !call.PassesThrough) CanonicalRequest.Refuse(outcome, refusal);
                        else await UpstreamRelay.ForwardAsync(ctx, call, outcome, logger, ct);
                    }
                    finally
                    {
                        target.Latency?.Finished();
                        GatewayTracing.EndAttempt(attempt, outcome);
                        attempt?.Dispose();
                    }
                    Attempts.Complete(route, ref routing, outcome, logger);
                    if (outcome.Failure is not { } failure) break;
                    index = Attempts.Next(route, ref routing, failure, outcome, requestId, logger, out var delay);
                    if (index < 0)
                    {
                        await UpstreamRelay.WriteFailureAsync(ctx, failure, api);
                        break;
                    }
                    if (delay > TimeSpan.Zero) await Task.Delay(delay, time, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The client left while the request waited to try again; the failed attempt is already booked (FailedAttempts).
                outcome.ErrorClass = ErrorClasses.ClientClosed;
                outcome.UpstreamError = outcome.FailureReason = null;
            }
            finally
            {
                Attempts.Abandon(route, ref routing);
            }
            if (cached is not null) cache.Complete(ctx, outcome, cached);
        }
        catch (Exception e)
        {
            // Caught here rather than left to Kestrel, which would answer an empty 500 without x-request-id after the
            // record below had taken the status as 200.
            await UnexpectedAsync(ctx, outcome, requestId, e);
        }
        finally
        {
            // First in the finally: the response is done (a stream's last byte written), and nothing below can keep the slot.
            if (admitted) admission.Exit();
            if (limitDecision is not null) limits.Settle(limitChecks!, limitDecision, requestId, outcome.Usage, outcome.UpstreamStatus is >= 200 and < 300);
            canonical?.Dispose();
            var record = Records.Build(ctx, operation, requestId, body, outcome);
            if (budgetRules is not null) budgets.Charge(budgetRules, record.CostNanoUsd);
            metrics.Observe(record, outcome);
            GatewayTracing.EndRequest(activity, record, outcome);
            activity?.Dispose();
            log.TryWrite(record);
            // Last: a scrape that sees no request in flight sees every finished one counted and its record accepted.
            metrics.InFlight.Decrement();
        }
    }

    /// <summary>Every target's breaker is open: a fast 503 that says when to come back, rather than a call bound to fail.</summary>
    private Task NoTargetAsync(HttpContext ctx, Route route, CallOutcome outcome, string requestId)
    {
        var wait = TargetPicker.SoonestRecovery(route);
        outcome.FailureReason = FailureReasons.CircuitOpen;
        Log.NoTarget(logger, requestId, route.Name);
        RoutingHeaders.SetNone(ctx.Response);
        ctx.Response.Headers.RetryAfter = ((long)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Fail(ctx, outcome, 503,
            $"Every target of model '{route.Name}' is failing (circuit breakers open); the next is tried again in {Math.Ceiling(wait.TotalSeconds):0}s.",
            OpenAiError.Upstream, code: "circuit_open");
    }

    private static Task Fail(HttpContext ctx, CallOutcome outcome, int status, string message, string type, string? param = null, string? code = null)
    {
        outcome.ErrorClass = type;
        return ErrorResponses.WriteAsync(ctx, status, message, type, param, code, outcome.Api);
    }

    /// <summary>
    /// Route lookup by the model's JSON string without allocating: unescape to a stack buffer, then an alternate-key
    /// lookup. Never throws: the peeker has refused bodies the reader cannot turn into text (invalid UTF-8, an unpaired
    /// surrogate escape), and should anything else get through, a name that cannot be read names no route.
    /// </summary>
    internal static Route? FindRoute(GatewayConfig snapshot, ReadOnlySpan<byte> modelJson)
    {
        Span<char> chars = stackalloc char[256];
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(modelJson);
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.String) return null;
            int max = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (max > chars.Length) return null; // longer than any route name a config could sanely hold
            int n = reader.CopyString(chars);
            return snapshot.RoutesBySpan.TryGetValue(chars[..n], out var route) ? route : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string ModelName(ReadOnlySpan<byte> body, RequestFacts facts)
    {
        var json = body.Slice(facts.ModelStart, facts.ModelLength);
        string name;
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json);
            reader.Read();
            name = reader.GetString() ?? "";
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            name = System.Text.Encoding.UTF8.GetString(json.Trim((byte)'"')); // as FindRoute: unreachable after the peek
        }
        return name.Length > 200 ? name[..200] + "…" : name;
    }
}
