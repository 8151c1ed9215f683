using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Proxy.Accounting;
using Proxy.Metrics;
using Proxy.Providers;

namespace Proxy.Tracing;

/// <summary>
/// Spans with the OpenTelemetry GenAI semantic conventions: one server span per request, a client span per upstream
/// attempt, W3C trace context taken from the client and passed upstream. With no listener (tracing off, the default)
/// every call here is a null check: nothing is allocated.
/// </summary>
public static class GatewayTracing
{
    public const string SourceName = "LlmGateway";
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    public static readonly ActivitySource Source = new(SourceName, typeof(GatewayTracing).Assembly.GetName().Version?.ToString());

    /// <summary>The request's span, a child of the client's traceparent when it sent a valid one.</summary>
    public static Activity? StartRequest(HttpContext ctx, Operation operation)
    {
        if (!Source.HasListeners()) return null;
        var headers = ctx.Request.Headers;
        ActivityContext.TryParse(headers[TraceParent].ToString(), headers[TraceState].ToString(), isRemote: true, out var parent);
        // ASP.NET Core's hosting starts an Activity of its own per request (its logging is on), unsampled when the client
        // sent no traceparent; as the implicit parent it made the sampler drop every new trace. The request span's parent
        // is the client's traceparent or nothing. (AsyncLocal: this clears it for this request's flow only.)
        Activity.Current = null;
        var name = OperationName(operation);
        var activity = Source.StartActivity(name, ActivityKind.Server, parent);
        activity?.SetTag("gen_ai.operation.name", name);
        return activity;
    }

    /// <summary>Names the span after the model (GenAI convention: "{operation} {model}") once the route is known.</summary>
    public static void Routed(Activity? activity, Operation operation, string route)
    {
        if (activity is null) return;
        activity.DisplayName = OperationName(operation) + " " + route;
        activity.SetTag("gen_ai.request.model", route);
    }

    public static void EndRequest(Activity? activity, RequestRecord record, CallOutcome outcome)
    {
        if (activity is null) return;
        activity.SetTag("http.request.method", "POST");
        activity.SetTag("http.response.status_code", record.Status);
        activity.SetTag("llm_gateway.request_id", record.RequestId);
        if (record.KeyId is not null) activity.SetTag("llm_gateway.key_id", record.KeyId);
        if (outcome.Target is { } target)
        {
            activity.SetTag("gen_ai.system", System(target.Provider.Type));
            activity.SetTag("gen_ai.provider.name", System(target.Provider.Type));
            activity.SetTag("gen_ai.response.model", target.UpstreamModel);
            activity.SetTag("llm_gateway.provider", target.Provider.Name);
        }
        activity.SetTag("gen_ai.request.stream", record.Stream);
        if (record.UsageReported)
        {
            activity.SetTag("gen_ai.usage.input_tokens", record.PromptTokens);
            activity.SetTag("gen_ai.usage.output_tokens", record.CompletionTokens);
            if (record.CachedTokens > 0) activity.SetTag("gen_ai.usage.cache_read.input_tokens", record.CachedTokens);
        }
        if (record.CostNanoUsd > 0) activity.SetTag("llm_gateway.cost_usd", record.CostNanoUsd / 1e9);
        if (record.TtftUs > 0) activity.SetTag("llm_gateway.time_to_first_token_ms", record.TtftUs / 1000.0);
        if (record.ErrorClass is { } error && error != ErrorClasses.ClientClosed)
        {
            activity.SetTag("error.type", error);
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
    }

    /// <summary>A span for one call to a provider; the current span (the request's) is its parent.</summary>
    public static Activity? StartAttempt(in UpstreamCall call, int attempt)
    {
        if (!Source.HasListeners()) return null;
        var provider = call.Target.Provider;
        var activity = Source.StartActivity(OperationName(call.Operation) + " " + call.Target.UpstreamModel, ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag("gen_ai.operation.name", OperationName(call.Operation));
        activity.SetTag("gen_ai.system", System(provider.Type));
        activity.SetTag("gen_ai.provider.name", System(provider.Type));
        activity.SetTag("gen_ai.request.model", call.Target.UpstreamModel);
        if (call.Facts.MaxTokens > 0) activity.SetTag("gen_ai.request.max_tokens", call.Facts.MaxTokens);
        if (provider.BaseUrl is { } url)
        {
            activity.SetTag("server.address", url.Host);
            activity.SetTag("server.port", url.Port);
        }
        activity.SetTag("llm_gateway.provider", provider.Name);
        activity.SetTag("llm_gateway.attempt", attempt);
        return activity;
    }

    public static void EndAttempt(Activity? activity, CallOutcome outcome)
    {
        if (activity is null) return;
        if (outcome.UpstreamStatus != 0) activity.SetTag("http.response.status_code", outcome.UpstreamStatus);
        if (outcome.Usage.Reported)
        {
            activity.SetTag("gen_ai.usage.input_tokens", outcome.Usage.PromptTokens);
            activity.SetTag("gen_ai.usage.output_tokens", outcome.Usage.CompletionTokens);
        }
        if (outcome.UpstreamError is { } error)
        {
            activity.SetTag("error.type", error);
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
    }

    /// <summary>
    /// Trace context for the upstream request: the attempt span's when tracing is on; otherwise the client's own
    /// headers unchanged, so a trace the client started still reaches the provider through a gateway that does not trace.
    /// </summary>
    public static void Propagate(HttpRequestMessage request, IHeaderDictionary clientHeaders)
    {
        var current = Activity.Current;
        if (current is not null && current.Source == Source && current.Kind == ActivityKind.Client && current.IdFormat == ActivityIdFormat.W3C)
        {
            request.Headers.TryAddWithoutValidation(TraceParent, current.Id);
            if (current.TraceStateString is { Length: > 0 } state) request.Headers.TryAddWithoutValidation(TraceState, state);
            return;
        }
        if (clientHeaders.TryGetValue(TraceParent, out var parent) && parent.Count == 1 && ActivityContext.TryParse(parent.ToString(), null, out _))
        {
            request.Headers.TryAddWithoutValidation(TraceParent, parent.ToString());
            if (clientHeaders.TryGetValue(TraceState, out var state) && state.Count == 1) request.Headers.TryAddWithoutValidation(TraceState, state.ToString());
        }
    }

    private static string OperationName(Operation operation) =>
        operation switch { Operation.Embeddings => "embeddings", Operation.CountTokens => "count_tokens", _ => "chat" };

    /// <summary>The gen_ai.system value for a provider type (well-known values where the convention has one).</summary>
    private static string System(string providerType) => providerType switch
    {
        "azure-openai" => "azure.ai.openai",
        "bedrock" => "aws.bedrock",
        "vertex" => "gcp.vertex_ai",
        "gemini" => "gcp.gemini",
        _ => providerType,
    };
}
