using Microsoft.AspNetCore.Http;
using Proxy.Accounting;
using Proxy.ClientApis;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Errors;
using Proxy.Keys;
using Proxy.Providers;

namespace Proxy.Pipeline;

/// <summary>
/// OpenAI's Responses API: <c>POST /v1/responses</c> goes through the request path like every client API, with the
/// request's own <see cref="OpenAiResponsesApi"/> (what the answer echoes, the stored conversation it continues); the
/// answers the gateway writes itself (translated ones) are kept in the <see cref="IResponseStore"/> under the caller's
/// key, for <c>GET/DELETE /v1/responses/{id}</c>, its <c>input_items</c> and a later <c>previous_response_id</c>.
/// Responses that OpenAI or Azure OpenAI answered themselves (passthrough) are kept there, not here: the store keeps
/// only which provider answered, under the caller's key, and those requests are forwarded to it.
/// </summary>
public sealed partial class ProxyHandler
{
    /// <summary>How long a stored response stays retrievable (OpenAI keeps them 30 days; the in-memory store is bounded by count and bytes too).</summary>
    public static readonly TimeSpan StoredResponseLifetime = TimeSpan.FromHours(24);

    public Task Responses(HttpContext ctx) => HandleAsync(ctx, ClientApi.OpenAiResponses);

    /// <summary>The request's own Responses API (its facts and the conversation it continues), or why the request is refused.</summary>
    private OpenAiResponsesApi? BeginResponse(ReadOnlySpan<byte> body, VirtualKey key, out CallRejectedException? refusal)
    {
        refusal = null;
        try
        {
            var facts = ResponseRequestFacts.Read(body);
            var previous = facts.PreviousResponseId is { } id ? responses.TryGet(key.Id, id) : null;
            return OpenAiResponsesApi.ForRequest(facts, previous);
        }
        catch (CallRejectedException e)
        {
            refusal = e;
            return null;
        }
    }

    /// <summary>
    /// Keeps an answer the gateway wrote (store not false, completed or cut by its token cap), under the caller's key.
    /// Called by the answer's writer when it ends, before the relay sends the last bytes, so a client that continues the
    /// conversation the moment it has the answer finds it stored.
    /// </summary>
    private void SaveResponse(OpenAiResponsesApi api, ResponseAnswerWriter writer, ReadOnlySpan<byte> body, CallOutcome outcome)
    {
        if (api.Facts is not { Store: true } || outcome.KeyId is not { } keyId) return;
        if (writer.Status is not (ResponseStatus.Completed or ResponseStatus.Incomplete)) return;
        var input = ResponseInputItems.Write(body, api.Previous, writer.ResponseId);
        responses.Save(keyId, writer.ResponseId, input, writer.OutputItemsJson, writer.ResponseJson, time.GetUtcNow() + StoredResponseLifetime);
    }

    /// <summary>
    /// For an answer that passed through (OpenAI, Azure OpenAI keep it themselves): which provider to ask for it later.
    /// Called as soon as the relay reads the provider's id, before the answer's last bytes reach the client.
    /// </summary>
    private void SavePassthrough(OpenAiResponsesApi api, string upstreamId, CallOutcome outcome)
    {
        if (api.Facts is not { Store: true } || outcome.KeyId is not { } keyId || outcome.Target is not { } target) return;
        responses.SavePassthrough(keyId, upstreamId, target.Provider.Name, time.GetUtcNow() + StoredResponseLifetime);
    }

    /// <summary>GET /v1/responses/{id}: the stored response object, to the key that made it.</summary>
    public async Task GetResponse(HttpContext ctx)
    {
        if (await StoredFor(ctx, IdOf(ctx), "") is not { } stored) return;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.BodyWriter.WriteAsync(stored.Response, ctx.RequestAborted);
    }

    /// <summary>GET /v1/responses/{id}/input_items: its input items, a page at a time (limit, order, after).</summary>
    public async Task GetResponseInputItems(HttpContext ctx)
    {
        if (await StoredFor(ctx, IdOf(ctx), "/input_items") is not { } stored) return;
        var query = ctx.Request.Query;
        int limit = ResponseItemListWriter.DefaultLimit;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > ResponseItemListWriter.MaxLimit))
        {
            await ErrorResponses.WriteAsync(ctx, 400, $"'limit' must be an integer from 1 to {ResponseItemListWriter.MaxLimit}.", OpenAiError.InvalidRequest, "limit", "invalid_request_body");
            return;
        }
        var order = query.TryGetValue("order", out var o) ? o.ToString() : "desc";
        if (order is not ("asc" or "desc"))
        {
            await ErrorResponses.WriteAsync(ctx, 400, "'order' must be 'asc' or 'desc'.", OpenAiError.InvalidRequest, "order", "invalid_request_body");
            return;
        }
        ctx.Response.ContentType = "application/json";
        ResponseItemListWriter.Write(ctx.Response.BodyWriter, stored.InputItems, limit, order == "asc", query.TryGetValue("after", out var a) ? a.ToString() : null);
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>DELETE /v1/responses/{id}: forgets it, answering as OpenAI does.</summary>
    public async Task DeleteResponse(HttpContext ctx)
    {
        var id = IdOf(ctx);
        RequestIds.Assign(ctx);
        if (await KeyFor(ctx) is not { } key) return;
        if (responses.TryGetPassthrough(key.Id, id) is { } kept)
        {
            // The provider's own answer says whether it was deleted; only then is the pointer to it useless.
            if (await ForwardAsync(ctx, kept, HttpMethod.Delete, "")) responses.Delete(key.Id, id);
            return;
        }
        if (!responses.Delete(key.Id, id))
        {
            await NoSuchResponse(ctx, id);
            return;
        }
        ctx.Response.ContentType = "application/json";
        using var w = new System.Text.Json.Utf8JsonWriter(ctx.Response.BodyWriter, JsonOutput.Options);
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("object"u8, "response.deleted"u8);
        w.WriteBoolean("deleted"u8, true);
        w.WriteEndObject();
        await w.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>The {id} of the route (a plain RequestDelegate: no parameter binding to generate for AOT).</summary>
    private static string IdOf(HttpContext ctx) => ctx.Request.RouteValues["id"] as string ?? "";

    /// <summary>The response the gateway stored for this key; one a provider keeps is forwarded there (GET <paramref name="suffix"/>) and answered here.</summary>
    private async Task<StoredResponse?> StoredFor(HttpContext ctx, string id, string suffix)
    {
        RequestIds.Assign(ctx);
        if (await KeyFor(ctx) is not { } key) return null;
        // Another key's response answers exactly as one that never existed: its id reveals nothing.
        if (responses.TryGet(key.Id, id) is { } stored) return stored;
        if (responses.TryGetPassthrough(key.Id, id) is { } kept) await ForwardAsync(ctx, kept, HttpMethod.Get, suffix);
        else await NoSuchResponse(ctx, id);
        return null;
    }

    /// <summary>Forwards the request for a response a provider keeps to that provider (by name, in the config in force now); true when it answered 2xx.</summary>
    private async Task<bool> ForwardAsync(HttpContext ctx, PassthroughResponse kept, HttpMethod method, string suffix)
    {
        var requestId = ctx.Response.Headers[RequestIds.Header].ToString();
        if (!config.Current.Providers.TryGetValue(kept.Provider, out var provider)
            || provider.Adapter.BuildStoredResponseRequest(method, kept.ResponseId, suffix, ctx.Request.QueryString) is not { } request)
        {
            await ErrorResponses.WriteAsync(ctx, 404, $"Response '{kept.ResponseId}' was answered by provider '{kept.Provider}', which this gateway no longer has.",
                OpenAiError.NotFound, "response_id", "response_not_found");
            return false;
        }
        return await StoredResponseForwarding.ForwardAsync(ctx, provider, request, logger, requestId);
    }

    private async Task<VirtualKey?> KeyFor(HttpContext ctx)
    {
        switch (Authenticator.Authenticate(ctx.Request, config.Current, out var key))
        {
            case Authenticator.Outcome.Missing:
                metrics.Reject(Metrics.RejectReason.MissingKey);
                await ErrorResponses.MissingKey(ctx);
                return null;
            case Authenticator.Outcome.Invalid:
                metrics.Reject(Metrics.RejectReason.InvalidKey);
                await ErrorResponses.InvalidKey(ctx);
                return null;
            default:
                return key;
        }
    }

    private static Task NoSuchResponse(HttpContext ctx, string id) => ErrorResponses.WriteAsync(ctx, 404,
        $"No response with id '{(id.Length > 100 ? id[..100] + "…" : id)}' is stored for this key (the gateway keeps the responses it wrote, and remembers " +
        $"which provider keeps the ones it passed through, for {StoredResponseLifetime.TotalHours:0} hours).", OpenAiError.NotFound, "response_id", "response_not_found");
}
