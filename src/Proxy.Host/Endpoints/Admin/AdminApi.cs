using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Proxy.Config;
using Proxy.ControlPlane;
using Proxy.Errors;
using Proxy.Host.Config;
using Proxy.Host.ControlPlane;
using Proxy.Keys;
using Proxy.Pipeline;

namespace Proxy.Host.Endpoints.Admin;

/// <summary>
/// /admin/v1: providers, routes, teams and virtual keys (with their limits and budgets), admin keys and the audit log,
/// behind admin keys that are not virtual keys. Every write is validated by the config file's own rules against the
/// whole configuration it would make, answers the exact field and reason when refused, and changes nothing then. The
/// replica that takes a write serves it at once; the others within a second (NOTIFY).
/// </summary>
internal sealed partial class AdminApi(ControlPlaneRuntime cp, ConfigLoader loader, ConfigHolder config, ConfigWatcher watcher)
{
    private const int MaxBody = 1 << 20;
    private ControlPlaneStore Store => cp.Store!;
    private ControlPlaneData Data => cp.Data!;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")]
    private static partial Regex NamePattern();

    public static void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app, AdminApi api)
    {
        foreach (var (segment, kind) in new[] { ("providers", ObjectKind.Provider), ("routes", ObjectKind.Route), ("teams", ObjectKind.Team), ("keys", ObjectKind.Key) })
        {
            app.MapGet("/admin/v1/" + segment, ctx => api.Guard(ctx, () => api.List(ctx, kind)));
            app.MapGet("/admin/v1/" + segment + "/{**name}", ctx => api.Guard(ctx, () => api.Get(ctx, kind)));
            app.MapPut("/admin/v1/" + segment + "/{**name}", ctx => api.Guard(ctx, () => api.Put(ctx, kind)));
            app.MapDelete("/admin/v1/" + segment + "/{**name}", ctx => api.Guard(ctx, () => api.Delete(ctx, kind)));
        }
        app.MapPost("/admin/v1/keys", ctx => api.Guard(ctx, () => api.CreateKey(ctx)));
        app.MapGet("/admin/v1/admin-keys", ctx => api.Guard(ctx, () => api.ListAdminKeys(ctx)));
        app.MapPost("/admin/v1/admin-keys", ctx => api.Guard(ctx, () => api.CreateAdminKey(ctx)));
        app.MapDelete("/admin/v1/admin-keys/{id}", ctx => api.Guard(ctx, () => api.DeleteAdminKey(ctx)));
        app.MapGet("/admin/v1/audit", ctx => api.Guard(ctx, () => api.Audit(ctx)));
        app.MapGet("/admin/v1/status", ctx => api.Guard(ctx, () => api.Status(ctx)));
        app.MapGet("/admin/v1/usage", ctx => api.Guard(ctx, () => api.Usage(ctx)));
        app.MapGet("/admin/v1/openapi.json", AdminOpenApi.Serve);
    }

    /// <summary>Admin key check, then the handler; a database that cannot answer is a 503 that says what is served.</summary>
    private async Task Guard(HttpContext ctx, Func<Task> handler)
    {
        RequestIds.Assign(ctx);
        ctx.Response.Headers.CacheControl = "no-store";
        if (Actor(ctx) is not { } actor)
        {
            await AdminErrors.Unauthorized(ctx, "The admin API needs an admin key (Authorization: Bearer ...): one from control_plane.admin_keys, or made with POST /admin/v1/admin-keys. Virtual keys are not admin keys.");
            return;
        }
        ctx.Items[ActorItem] = actor;
        try
        {
            await handler();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException { InnerException: NpgsqlException }
                                  && !ctx.Response.HasStarted && !ctx.RequestAborted.IsCancellationRequested)
        {
            // A restarted server leaves the pool's idle connections dead (57P01): the next call opens fresh ones.
            Store.DataSource.Clear();
            await AdminErrors.Unavailable(ctx,
                $"The control plane's database did not answer ({Short(e)}); nothing was changed. This replica keeps serving its last configuration (version {Data.Version}); try again once Postgres is back.");
        }
    }

    private const string ActorItem = "admin.actor";

    private static string Short(Exception e) => e.Message.Length > 200 ? e.Message[..200] : e.Message;

    /// <summary>"admin:ID" for a valid admin key; null otherwise. Admin keys are compared by hash, as virtual keys are.</summary>
    private string? Actor(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var secret = header.AsSpan(7).Trim();
        if (secret.IsEmpty) return null;
        var hash = KeyHash.Of(secret);
        foreach (var (id, h) in cp.Settings!.AdminKeys)
            if (h.Equals(hash)) return "admin:" + id;
        return Data.AdminKeyByHash(hash.ToString()) is { } key ? "admin:" + key.Id : null;
    }

    private static string ActorOf(HttpContext ctx) => (string)ctx.Items[ActorItem]!;

    private async Task List(HttpContext ctx, ObjectKind kind)
    {
        var snapshot = (await Store.LoadAsync(ctx.RequestAborted));
        var items = new JsonArray();
        foreach (var o in snapshot.Objects.Where(o => o.Kind == kind).OrderBy(o => o.Name, StringComparer.Ordinal)) items.Add((JsonNode)Show(o));
        await WriteJson(ctx, 200, new JsonObject { ["data"] = items, ["version"] = snapshot.Version });
    }

    private async Task Get(HttpContext ctx, ObjectKind kind)
    {
        var name = NameOf(ctx);
        var snapshot = await Store.LoadAsync(ctx.RequestAborted);
        var o = snapshot.Objects.FirstOrDefault(x => x.Kind == kind && x.Name == name);
        if (o is null) await AdminErrors.NotFound(ctx, $"No {ConfigObject.KindName(kind)} named '{name}'.");
        else await WriteJson(ctx, 200, Show(o));
    }

    private async Task Put(HttpContext ctx, ObjectKind kind)
    {
        var name = NameOf(ctx);
        if (!NamePattern().IsMatch(name))
        {
            await AdminErrors.BadRequest(ctx, $"'{name}' is not a valid name: 1-200 characters, letters, digits and . _ : / @ + - (starting with a letter or digit).", "name");
            return;
        }
        if (await ReadBody(ctx) is not { } body) return;
        var snapshot = await Store.LoadAsync(ctx.RequestAborted);
        var previous = snapshot.Objects.FirstOrDefault(x => x.Kind == kind && x.Name == name);
        string? display = null;
        if (kind == ObjectKind.Provider && ProviderSecrets.Seal(body, previous?.Body, Data.Sealer, name) is { } sealError)
        {
            await AdminErrors.BadRequest(ctx, "providers." + name + "." + sealError, "providers." + name + "." + sealError.Split(':')[0]);
            return;
        }
        if (kind == ObjectKind.Key)
        {
            if (body.ContainsKey("id") && (string?)body["id"] != name)
            {
                await AdminErrors.BadRequest(ctx, $"keys.{name}.id: the key's id is its name in the path ('{name}'); leave 'id' out of the body", $"keys.{name}.id");
                return;
            }
            body.Remove("id");
            var oldHash = (string?)previous?.Body["hash"];
            var newHash = body["hash"] is JsonValue hv && hv.TryGetValue<string>(out var hs) ? hs : null;
            if (previous is null && newHash is null)
            {
                await AdminErrors.BadRequest(ctx, $"keys.{name}.hash: missing. To make a new key with a secret, POST /admin/v1/keys; PUT imports an existing key by its hash (sha256:...)", $"keys.{name}.hash");
                return;
            }
            if (oldHash is not null && newHash is not null && newHash != oldHash)
            {
                await AdminErrors.BadRequest(ctx, $"keys.{name}.hash: a key's hash cannot change; delete the key and make a new one", $"keys.{name}.hash");
                return;
            }
            body["hash"] = newHash ?? oldHash;
            display = previous?.Display;
        }
        await Write(ctx, [new Change(kind, name, body, display)], previous is null ? 201 : 200, kind, name);
    }

    private async Task Delete(HttpContext ctx, ObjectKind kind)
    {
        var name = NameOf(ctx);
        var snapshot = await Store.LoadAsync(ctx.RequestAborted);
        if (!snapshot.Objects.Any(x => x.Kind == kind && x.Name == name))
        {
            await AdminErrors.NotFound(ctx, $"No {ConfigObject.KindName(kind)} named '{name}'.");
            return;
        }
        await Write(ctx, [new Change(kind, name, null)], 204, kind, name);
    }

    /// <summary>POST /admin/v1/keys: a new virtual key; the secret is in this answer and nowhere else, ever.</summary>
    private async Task CreateKey(HttpContext ctx)
    {
        if (await ReadBody(ctx) is not { } body) return;
        var name = (string?)(body["id"] as JsonValue) ?? "";
        if (!NamePattern().IsMatch(name))
        {
            await AdminErrors.BadRequest(ctx, name.Length == 0 ? "keys.id: missing: a name for the key (logs and metrics show it instead of the key)"
                : $"keys.id: '{name}' is not a valid name: 1-200 characters, letters, digits and . _ : / @ + -", "keys.id");
            return;
        }
        if (body.ContainsKey("hash"))
        {
            await AdminErrors.BadRequest(ctx, "keys.hash: POST makes a new key and its secret; to import a key by its hash use PUT /admin/v1/keys/{id}", "keys.hash");
            return;
        }
        var snapshot = await Store.LoadAsync(ctx.RequestAborted);
        if (snapshot.Objects.Any(x => x.Kind == ObjectKind.Key && x.Name == name))
        {
            await AdminErrors.Duplicate(ctx, $"keys.id: a key named '{name}' exists; PUT /admin/v1/keys/{name} changes it, DELETE revokes it", "keys.id");
            return;
        }
        body.Remove("id");
        var secret = KeyGenerator.NewKey();
        body["hash"] = KeyHash.Of(secret).ToString();
        var display = secret[..(KeyGenerator.KeyPrefix.Length + 4)] + "...";
        var outcome = await Apply(ctx, [new Change(ObjectKind.Key, name, body, display)]);
        if (outcome is null) return;
        var shown = Show(new ConfigObject(ObjectKind.Key, name, body, 1, DateTimeOffset.UtcNow, display));
        shown["key"] = secret;
        shown["version"] = outcome.Value;
        await WriteJson(ctx, 201, shown);
    }

    private async Task ListAdminKeys(HttpContext ctx)
    {
        var snapshot = await Store.LoadAsync(ctx.RequestAborted);
        var items = new JsonArray();
        foreach (var (id, _) in cp.Settings!.AdminKeys) items.Add((JsonNode)new JsonObject { ["id"] = id, ["source"] = "config_file" });
        foreach (var k in snapshot.AdminKeys)
            items.Add((JsonNode)new JsonObject { ["id"] = k.Id, ["source"] = "database", ["display"] = k.Display, ["created_at"] = k.CreatedAt.ToString("O"), ["created_by"] = k.CreatedBy });
        await WriteJson(ctx, 200, new JsonObject { ["data"] = items });
    }

    private async Task CreateAdminKey(HttpContext ctx)
    {
        if (await ReadBody(ctx) is not { } body) return;
        var id = (string?)(body["id"] as JsonValue) ?? "";
        if (!NamePattern().IsMatch(id))
        {
            await AdminErrors.BadRequest(ctx, "id: missing or not a valid name (1-200 letters, digits, . _ : / @ + -)", "id");
            return;
        }
        var snapshot = await Store.LoadAsync(ctx.RequestAborted);
        if (snapshot.AdminKeys.Any(k => k.Id == id) || cp.Settings!.AdminKeys.Any(k => k.Id == id))
        {
            await AdminErrors.Duplicate(ctx, $"id: an admin key named '{id}' exists", "id");
            return;
        }
        var secret = KeyGenerator.NewKey();
        var display = secret[..(KeyGenerator.KeyPrefix.Length + 4)] + "...";
        long version = await Store.CreateAdminKeyAsync(ActorOf(ctx), id, KeyHash.Of(secret).ToString(), display, ctx.RequestAborted);
        await Refresh(ctx);
        await WriteJson(ctx, 201, new JsonObject { ["id"] = id, ["key"] = secret, ["display"] = display, ["version"] = version });
    }

    private async Task DeleteAdminKey(HttpContext ctx)
    {
        var id = (string)ctx.Request.RouteValues["id"]!;
        if (!await Store.DeleteAdminKeyAsync(ActorOf(ctx), id, ctx.RequestAborted))
        {
            await AdminErrors.NotFound(ctx, cp.Settings!.AdminKeys.Any(k => k.Id == id)
                ? $"Admin key '{id}' is in the config file (control_plane.admin_keys): remove it there."
                : $"No admin key named '{id}'.");
            return;
        }
        await Refresh(ctx);
        ctx.Response.StatusCode = 204;
    }

    private async Task Audit(HttpContext ctx)
    {
        int limit = int.TryParse(ctx.Request.Query["limit"], out var l) ? Math.Clamp(l, 1, 1000) : 100;
        long? before = long.TryParse(ctx.Request.Query["before"], out var b) ? b : null;
        var entries = await Store.AuditAsync(limit, before, ctx.RequestAborted);
        var items = new JsonArray();
        foreach (var e in entries)
        {
            items.Add((JsonNode)new JsonObject
            {
                ["id"] = e.Id, ["at"] = e.At.ToString("O"), ["actor"] = e.Actor, ["action"] = e.Action, ["kind"] = e.Kind, ["name"] = e.Name,
                ["before"] = e.Before is null ? null : JsonNode.Parse(e.Before), ["after"] = e.After is null ? null : JsonNode.Parse(e.After), ["version"] = e.Version,
            });
        }
        await WriteJson(ctx, 200, new JsonObject { ["data"] = items });
    }

    /// <summary>GET /admin/v1/usage?group_by=key|team|route|day&amp;from=YYYY-MM-DD&amp;to=...&amp;key=&amp;team=&amp;route=</summary>
    private async Task Usage(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var groupBy = q["group_by"].ToString() is { Length: > 0 } g ? g : "key";
        if (!Proxy.ControlPlane.Usage.UsageQuery.GroupBys.Contains(groupBy))
        {
            await AdminErrors.BadRequest(ctx, $"group_by: '{groupBy}' is not one of {string.Join(", ", Proxy.ControlPlane.Usage.UsageQuery.GroupBys)}", "group_by");
            return;
        }
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        if (!TryDate(q["from"], today.AddDays(-30), out var from) || !TryDate(q["to"], today, out var to))
        {
            await AdminErrors.BadRequest(ctx, "from/to: expected dates as YYYY-MM-DD (UTC days, both included)", q["from"].Count > 0 && !TryDate(q["from"], today, out _) ? "from" : "to");
            return;
        }
        if (to < from)
        {
            await AdminErrors.BadRequest(ctx, $"to: {to:yyyy-MM-dd} is before from ({from:yyyy-MM-dd})", "to");
            return;
        }
        var rows = await Proxy.ControlPlane.Usage.UsageQuery.QueryAsync(Store.DataSource, groupBy, from, to,
            Optional(q["key"]), Optional(q["team"]), Optional(q["route"]), ctx.RequestAborted);
        var items = new JsonArray();
        foreach (var r in rows)
        {
            items.Add((JsonNode)new JsonObject
            {
                ["day"] = r.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                [groupBy] = groupBy == "day" ? null : r.Group,
                ["requests"] = r.Requests, ["errors"] = r.Errors, ["input_tokens"] = r.InputTokens, ["output_tokens"] = r.OutputTokens,
                ["cached_tokens"] = r.CachedTokens, ["cost_usd"] = r.CostNanoUsd / 1e9, ["cost_nano_usd"] = r.CostNanoUsd,
            });
        }
        await WriteJson(ctx, 200, new JsonObject
        {
            ["group_by"] = groupBy, ["from"] = from.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["to"] = to.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), ["data"] = items,
        });

        static string? Optional(Microsoft.Extensions.Primitives.StringValues v) => v.Count > 0 && v[0] is { Length: > 0 } s ? s : null;
        static bool TryDate(Microsoft.Extensions.Primitives.StringValues v, DateOnly fallback, out DateOnly date)
        {
            if (v.Count == 0 || string.IsNullOrEmpty(v[0])) { date = fallback; return true; }
            return DateOnly.TryParseExact(v[0], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out date);
        }
    }

    private async Task Status(HttpContext ctx)
    {
        long database = await Store.VersionAsync(ctx.RequestAborted);
        await WriteJson(ctx, 200, new JsonObject
        {
            ["database_version"] = database,
            ["served_version"] = Data.Version,
            ["in_step"] = cp.Sync?.Problem is null,
            ["problem"] = cp.Sync?.Problem,
        });
    }

    /// <summary>Writes the changes after validating the configuration they make; answers the object (or 204).</summary>
    private async Task Write(HttpContext ctx, IReadOnlyList<Change> changes, int status, ObjectKind kind, string name)
    {
        var version = await Apply(ctx, changes);
        if (version is null) return;
        if (status == 204)
        {
            ctx.Response.StatusCode = 204;
            return;
        }
        // Refresh (in Apply) has just loaded what was written.
        var o = Data.Snapshot.Objects.First(x => x.Kind == kind && x.Name == name);
        var shown = Show(o);
        shown["version"] = version.Value;
        await WriteJson(ctx, status, shown);
    }

    /// <summary>The version written, or null after answering the 400 that says why nothing was.</summary>
    private async Task<long?> Apply(HttpContext ctx, IReadOnlyList<Change> changes)
    {
        string? param = null;
        var (version, error, _) = await Store.ApplyAsync(ActorOf(ctx), changes, objects => Sections.Validate(loader, config.Current.SourcePath, objects, out param), ctx.RequestAborted);
        if (error is not null)
        {
            await AdminErrors.BadRequest(ctx, error, param, "invalid_config");
            return null;
        }
        await Refresh(ctx);
        return version;
    }

    /// <summary>This replica serves a write at once instead of waiting for its own notification.</summary>
    private async Task Refresh(HttpContext ctx)
    {
        if (cp.Sync is { } sync)
        {
            await sync.RefreshAsync(ctx.RequestAborted);
            return;
        }
        // Before the sync loop has started: the same load, without its snapshot file.
        Data.Update(await Store.LoadAsync(ctx.RequestAborted));
        watcher.Reload();
    }

    private static JsonObject Show(ConfigObject o)
    {
        var shown = new JsonObject
        {
            ["kind"] = ConfigObject.KindName(o.Kind),
            ["name"] = o.Name,
            ["config"] = o.Kind == ObjectKind.Provider ? ProviderSecrets.Masked(o.Body) : o.Body.DeepClone(),
            ["revision"] = o.Revision,
        };
        if (o.UpdatedAt != default) shown["updated_at"] = o.UpdatedAt.ToString("O");
        if (o.Display is not null) shown["display"] = o.Display;
        return shown;
    }

    private static string NameOf(HttpContext ctx) => Uri.UnescapeDataString((string?)ctx.Request.RouteValues["name"] ?? "");

    private static async Task<JsonObject?> ReadBody(HttpContext ctx)
    {
        if (ctx.Request.ContentLength > MaxBody)
        {
            await AdminErrors.BadRequest(ctx, $"The body is {ctx.Request.ContentLength} bytes; the admin API takes at most {MaxBody}.", code: "body_too_large");
            return null;
        }
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
        if (buffer.Length > MaxBody)
        {
            await AdminErrors.BadRequest(ctx, $"The body is larger than {MaxBody} bytes.", code: "body_too_large");
            return null;
        }
        try
        {
            if (JsonNode.Parse(buffer.ToArray()) is JsonObject o) return o;
            await AdminErrors.BadRequest(ctx, "The body must be a JSON object (the same fields the config file takes).", code: "invalid_json");
        }
        catch (JsonException e)
        {
            await AdminErrors.BadRequest(ctx, $"The body is not valid JSON: {e.Message}", code: "invalid_json");
        }
        return null;
    }

    private static async Task WriteJson(HttpContext ctx, int status, JsonNode node)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, JsonOutput.Options);
        node.WriteTo(w);
    }
}
