using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Config;
using Proxy.Errors;
using Proxy.Keys;
using Proxy.Pipeline;
using Route = Proxy.Routing.Route;

namespace Proxy.Host.Endpoints;

/// <summary>GET /v1/models and /v1/models/{id}: the routes the calling key may use, in OpenAI's model-list shape.</summary>
internal sealed class ModelsEndpoint(ConfigHolder config)
{
    public async Task List(HttpContext ctx)
    {
        var snapshot = config.Current;
        RequestIds.Assign(ctx);
        if (await Authenticate(ctx, snapshot) is not { } key) return;
        ctx.Response.ContentType = "application/json";
        await using (var w = new Utf8JsonWriter(ctx.Response.BodyWriter, Proxy.Errors.JsonOutput.Options))
        {
            w.WriteStartObject();
            w.WriteString("object"u8, "list"u8);
            w.WriteStartArray("data"u8);
            foreach (var route in snapshot.Routes.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                if (key.MayUse(route)) WriteModel(w, route);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    public async Task Get(HttpContext ctx)
    {
        var snapshot = config.Current;
        RequestIds.Assign(ctx);
        if (await Authenticate(ctx, snapshot) is not { } key) return;
        // Kestrel leaves %2F encoded in the path; SDKs escape the '/' in ids like "meta-llama/Llama-3-8B".
        var id = Uri.UnescapeDataString(ctx.Request.RouteValues["model"] as string ?? "");
        if (!snapshot.Routes.TryGetValue(id, out var route) || !key.MayUse(route))
        {
            await ErrorResponses.WriteAsync(ctx, 404, $"The model '{id}' does not exist on this gateway or you do not have access to it.",
                OpenAiError.NotFound, "model", "model_not_found");
            return;
        }
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, Proxy.Errors.JsonOutput.Options);
        WriteModel(w, route);
    }

    private static void WriteModel(Utf8JsonWriter w, Route route)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, route.Name);
        w.WriteString("object"u8, "model"u8);
        w.WriteNumber("created"u8, 0);
        w.WriteString("owned_by"u8, route.Targets[0].Provider.Name);
        w.WriteEndObject();
    }

    /// <summary>The caller's key, or null after answering 401.</summary>
    private static async Task<VirtualKey?> Authenticate(HttpContext ctx, GatewayConfig snapshot)
    {
        switch (Authenticator.Authenticate(ctx.Request, snapshot, out var key))
        {
            case Authenticator.Outcome.Missing: await ErrorResponses.MissingKey(ctx); return null;
            case Authenticator.Outcome.Invalid: await ErrorResponses.InvalidKey(ctx); return null;
        }
        return key;
    }
}
