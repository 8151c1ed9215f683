using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Budgets;
using Proxy.Config;
using Proxy.Errors;
using Proxy.Pipeline;

namespace Proxy.Host.Endpoints;

/// <summary>
/// GET /v1/usage: the calling key's budgets (its own, then its team's) with what each has spent in its current period,
/// what remains and when it resets, read from the budget store (shared by every replica with Redis).
/// </summary>
internal sealed class UsageEndpoint(ConfigHolder config, BudgetsStage budgets)
{
    public async Task Get(HttpContext ctx)
    {
        var snapshot = config.Current;
        RequestIds.Assign(ctx);
        switch (Authenticator.Authenticate(ctx.Request, snapshot, out var key))
        {
            case Authenticator.Outcome.Missing: await ErrorResponses.MissingKey(ctx); return;
            case Authenticator.Outcome.Invalid: await ErrorResponses.InvalidKey(ctx); return;
        }
        var rules = key!.Budgets;
        BudgetReading? reading = null;
        if (rules.Length > 0)
        {
            try
            {
                reading = await budgets.ReadAsync(rules, ctx.RequestAborted);
            }
            catch (Exception e) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                ctx.Response.Headers.RetryAfter = "1";
                await ErrorResponses.WriteAsync(ctx, 503, $"The gateway's budget store could not be read ({e.Message}); try again shortly.",
                    OpenAiError.Upstream, code: "budgets_unavailable");
                return;
            }
        }
        ctx.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, JsonOutput.Options);
        w.WriteStartObject();
        w.WriteString("key"u8, key.Id);
        w.WriteStartArray("budgets"u8);
        for (int i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            var state = reading!.States[i];
            w.WriteStartObject();
            w.WriteString("scope"u8, rule.ScopeText);
            w.WriteString("holder"u8, rule.Holder);
            w.WriteString("period"u8, rule.Period.Name);
            w.WriteNumber("limit_usd"u8, BudgetRule.Usd(rule.LimitNanoUsd));
            w.WriteNumber("spent_usd"u8, BudgetRule.Usd(state.SpentNanoUsd));
            w.WriteNumber("remaining_usd"u8, BudgetRule.Usd(Math.Max(0, rule.LimitNanoUsd - state.SpentNanoUsd)));
            w.WriteString("resets_at"u8, state.ResetsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
