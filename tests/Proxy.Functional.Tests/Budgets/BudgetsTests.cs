using System.Globalization;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests.Budgets;

/// <summary>
/// Budgets in the real gateway on its embedded store, with the mock provider priced under <c>pricing:</c>: every
/// answer's cost charged exactly (the price table's total to the nano-dollar over 1,000 requests), no request started
/// once a budget is spent (429 budget_exceeded with Retry-After, in the client API's shape), GET /v1/usage, the soft
/// threshold metric, and the fail modes when the shared store is unreachable.
/// </summary>
public sealed class BudgetsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Chat = "/v1/chat/completions";

    /// <summary>USD per million tokens, so each token costs a whole number of nano-USD (1,234 and 5,678).</summary>
    private const decimal InputPrice = 1.234m, OutputPrice = 5.678m;

    internal static string Config(string keyBudget, string teamBudget = "", string top = "") => $$"""
        {{top}}
        providers:
          mock:
            type: mock
            completion_tokens: 7
        routes:
          mock-gpt: { provider: mock, model: mock-1 }
        pricing:
          mock-1: { input: {{InputPrice}}, output: {{OutputPrice}} }
        teams:
          acme: {{(teamBudget.Length == 0 ? "{}" : "{ budget: " + teamBudget + " }")}}
        keys:
          - id: all
            hash: {{TestKeys.Hash(TestKeys.All)}}
            team: acme
            {{(keyBudget.Length == 0 ? "" : "budget: " + keyBudget)}}
          - id: limited
            hash: {{TestKeys.Hash(TestKeys.Limited)}}
        """;

    /// <summary>A chat request whose prompt size varies with <paramref name="i"/> (the mock counts a token per 4 bytes).</summary>
    internal static string Body(int i) =>
        $$"""{"model":"mock-gpt","messages":[{"role":"user","content":"{{new string('x', i % 97)}}"}]}""";

    /// <summary>What the price table makes of an answer's usage, in nano-USD.</summary>
    internal static long CostOf(JsonElement answer)
    {
        var usage = answer.GetProperty("usage");
        return (long)(usage.GetProperty("prompt_tokens").GetInt64() * InputPrice * 1000 + usage.GetProperty("completion_tokens").GetInt64() * OutputPrice * 1000);
    }

    internal static async Task<JsonElement> UsageAsync(HttpClient client, string? key = TestKeys.All)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/usage");
        if (key is not null) request.Headers.Authorization = new("Bearer", key);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 200, $"GET /v1/usage: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>What a budget of the key's usage has spent, in nano-USD (exact: spent_usd carries every digit).</summary>
    internal static long Spent(JsonElement usage, int budget = 0) =>
        (long)(usage.GetProperty("budgets")[budget].GetProperty("spent_usd").GetDecimal() * 1_000_000_000m);

    /// <summary>Charges land after the answer: polls GET /v1/usage until the budget shows <paramref name="expected"/> (or 10 s).</summary>
    internal static async Task<long> SpentWhenSettledAsync(HttpClient client, long expected, int budget = 0)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            long spent = Spent(await UsageAsync(client), budget);
            if (spent == expected || DateTime.UtcNow > until) return spent;
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ThousandRequests_ChargeExactlyThePriceTablesTotal()
    {
        await using var gw = await GatewayHost.StartAsync(Config(keyBudget: "{ usd: 100, period: month }", teamBudget: "{ usd: 100, period: day }"));
        var before = await UsageAsync(gw.Client);
        Assert.Equal((0L, 0L), (Spent(before, 0), Spent(before, 1)));

        using var gate = new SemaphoreSlim(16);
        var costs = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                using var r = await gw.PostAsync(Chat, Body(i));
                var text = await Http.ReadBodyAsync(r);
                Assert.True((int)r.StatusCode == 200, text);
                return CostOf(JsonDocument.Parse(text).RootElement);
            }
            finally
            {
                gate.Release();
            }
        }));
        long expected = costs.Sum();

        long keySpent = await SpentWhenSettledAsync(gw.Client, expected, 0);
        long teamSpent = await SpentWhenSettledAsync(gw.Client, expected, 1);
        var metrics = await MetricsTests.ScrapeAsync(gw);
        double metricUsd = metrics.Value("llm_gateway_cost_usd_total", ("route", "mock-gpt"), ("provider", "mock"), ("model", "mock-1"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"1000 requests: price table total {expected} nano-USD (${expected / 1e9m}); key budget spent {keySpent}, team budget spent {teamSpent}; cost metric ${metricUsd}"));
        Assert.Equal(expected, keySpent);
        Assert.Equal(expected, teamSpent);
        Assert.Equal(expected / 1e9, metricUsd, 9);
        Assert.Equal(expected / 1e9m, (await UsageAsync(gw.Client)).GetProperty("budgets")[0].GetProperty("spent_usd").GetDecimal());
        // To the micro-dollar, as the request log writes each record's cost.
        await gw.StopAsync();
        decimal logged = RequestLogTests.ReadRecords(gw.LogDirectory).Sum(r => r.TryGetProperty("cost_usd", out var c) ? c.GetDecimal() : 0m);
        Assert.Equal(expected / 1e9m, logged);
    }

    [Fact]
    public async Task SpentBudget_NoRequestStartsAfter_429BudgetExceededWithRetryAfter()
    {
        // About 4 requests' worth: each costs 7 output tokens (39,746 nano-USD) plus its prompt.
        await using var gw = await GatewayHost.StartAsync(Config(keyBudget: "{ usd: 0.0002, period: day }"));
        const long budget = 200_000;
        long spent = 0;
        int admitted = 0;
        for (int i = 0; ; i++)
        {
            using var r = await gw.PostAsync(Chat, Body(i));
            var text = await Http.ReadBodyAsync(r);
            if ((int)r.StatusCode == 429)
            {
                // Refused only once spent, never before.
                Assert.True(spent >= budget, $"refused at {spent} of {budget}");
                var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
                Assert.Equal(("budget_exceeded", "rate_limit_error"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
                var message = error.GetProperty("message").GetString()!;
                Assert.Contains("Budget exceeded for key 'all'", message, StringComparison.Ordinal);
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"spent ${spent / 1e9m} of $0.0002 this day (UTC)"), message, StringComparison.Ordinal);
                Assert.DoesNotContain(TestKeys.All, text, StringComparison.Ordinal);
                var tomorrow = DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(1);
                Assert.Contains("it resets at " + tomorrow.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture), message, StringComparison.Ordinal);
                int retryAfter = int.Parse(Http.Header(r, "Retry-After")!, CultureInfo.InvariantCulture);
                Assert.InRange(retryAfter, (tomorrow - DateTime.UtcNow).TotalSeconds - 5, (tomorrow - DateTime.UtcNow).TotalSeconds + 5);
                break;
            }
            Assert.True((int)r.StatusCode == 200, text);
            Assert.True(spent < budget, $"admitted at {spent} of {budget}");
            admitted++;
            spent += CostOf(JsonDocument.Parse(text).RootElement);
            Assert.Equal(spent, await SpentWhenSettledAsync(gw.Client, spent));
        }
        output.WriteLine($"{admitted} requests admitted, spending {spent} of {budget} nano-USD; the next refused");
        Assert.InRange(admitted, 2, 6);

        // Every later request is refused, in each client API's shape, and charges nothing.
        for (int i = 0; i < 5; i++)
        {
            using var r = await gw.PostAsync(Chat, Body(i));
            Assert.Equal(429, (int)r.StatusCode);
        }
        using (var anthropic = await gw.PostAsync("/v1/messages", """{"model":"mock-gpt","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}"""))
        {
            var root = JsonDocument.Parse(await Http.ReadBodyAsync(anthropic)).RootElement;
            Assert.Equal(429, (int)anthropic.StatusCode);
            Assert.Equal("rate_limit_error", root.GetProperty("error").GetProperty("type").GetString());
            Assert.NotNull(Http.Header(anthropic, "Retry-After"));
        }
        Assert.Equal(spent, Spent(await UsageAsync(gw.Client)));
        var metrics = await MetricsTests.ScrapeAsync(gw);
        Assert.Equal(7, metrics.Value("llm_gateway_requests_rejected_total", ("reason", "budget_exceeded")));

        // The key without a budget is not held by this one.
        using (var other = await gw.PostAsync(Chat, Body(1), key: TestKeys.Limited)) Assert.Equal(200, (int)other.StatusCode);

        await gw.StopAsync();
        var records = RequestLogTests.ReadRecords(gw.LogDirectory);
        Assert.Equal(7, records.Count(r => r.TryGetProperty("limited_by", out var by) && by.GetString() == "budget:key:all:d"));
    }

    [Fact]
    public async Task Usage_ShowsTheKeysAndTeamsBudgets_AndTheSoftThresholdMetricMoves()
    {
        await using var gw = await GatewayHost.StartAsync(Config(keyBudget: "{ usd: 50, period: month }", teamBudget: "{ usd: 0.001, period: 7d, soft_thresholds: [0.1] }"));
        var usage = await UsageAsync(gw.Client);
        Assert.Equal("all", usage.GetProperty("key").GetString());
        var budgets = usage.GetProperty("budgets");
        Assert.Equal(2, budgets.GetArrayLength());
        var own = budgets[0];
        Assert.Equal(("key", "all", "month"), (own.GetProperty("scope").GetString(), own.GetProperty("holder").GetString(), own.GetProperty("period").GetString()));
        Assert.Equal((50m, 0m, 50m), (own.GetProperty("limit_usd").GetDecimal(), own.GetProperty("spent_usd").GetDecimal(), own.GetProperty("remaining_usd").GetDecimal()));
        var now = DateTime.UtcNow;
        var nextMonth = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        Assert.Equal(nextMonth.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), own.GetProperty("resets_at").GetString());
        var team = budgets[1];
        Assert.Equal(("team", "acme", "7d"), (team.GetProperty("scope").GetString(), team.GetProperty("holder").GetString(), team.GetProperty("period").GetString()));
        Assert.Equal(0.001m, team.GetProperty("limit_usd").GetDecimal());
        Assert.EndsWith(":00:00Z", team.GetProperty("resets_at").GetString(), StringComparison.Ordinal); // the next hour: its oldest bucket leaves

        // 0.1 of $0.001 is 100,000 nano-USD: the second request (about 58,000 each) crosses it.
        long spent = 0;
        for (int i = 0; i < 2; i++)
        {
            using var r = await gw.PostAsync(Chat, Body(i));
            Assert.Equal(200, (int)r.StatusCode);
            spent += CostOf(JsonDocument.Parse(await Http.ReadBodyAsync(r)).RootElement);
        }
        Assert.Equal(spent, await SpentWhenSettledAsync(gw.Client, spent, 1));
        var after = (await UsageAsync(gw.Client)).GetProperty("budgets")[1];
        Assert.Equal(0.001m - spent / 1e9m, after.GetProperty("remaining_usd").GetDecimal());
        var metrics = await MetricsTests.ScrapeAsync(gw);
        Assert.Equal(1, metrics.Value("llm_gateway_budget_thresholds_crossed_total", ("scope", "team"), ("holder", "acme"), ("threshold", "0.1")));
        Assert.Equal(spent / 1e9, metrics.Value("llm_gateway_budget_spent_usd", ("scope", "team"), ("holder", "acme")), 12);
        Assert.Equal(0.001, metrics.Value("llm_gateway_budget_limit_usd", ("scope", "team"), ("holder", "acme")), 12);
        Assert.Equal(50, metrics.Value("llm_gateway_budget_limit_usd", ("scope", "key"), ("holder", "all")), 12);

        // A key with no budget gets an empty list; no key is a 401 in the OpenAI shape.
        var none = await UsageAsync(gw.Client, TestKeys.Limited);
        Assert.Equal(("limited", 0), (none.GetProperty("key").GetString(), none.GetProperty("budgets").GetArrayLength()));
        using var anonymous = await gw.GetAsync("/v1/usage", key: null);
        Assert.Equal(401, (int)anonymous.StatusCode);
        var error = JsonDocument.Parse(await Http.ReadBodyAsync(anonymous)).RootElement.GetProperty("error");
        Assert.Equal("missing_api_key", error.GetProperty("code").GetString());
        using var wrong = await gw.GetAsync("/v1/usage", key: "sk-gw-not-a-key");
        Assert.Equal(401, (int)wrong.StatusCode);
    }

    [Fact]
    public async Task RedisUnreachable_ClosedBudgetsRefuse503_OpenOnesAdmit()
    {
        using var closed = TestConfig.ClosedPort(out int port);
        var top = $"""
            redis:
              url: redis://127.0.0.1:{port}
              connect_timeout: 200ms
            limits:
              store: redis
              replicas: 1
            """;
        var yaml = Config(keyBudget: "{ usd: 5 }", top: top)
            .Replace("hash: " + TestKeys.Hash(TestKeys.Limited), "hash: " + TestKeys.Hash(TestKeys.Limited) + "\n    budget: { usd: 5, on_store_failure: open }", StringComparison.Ordinal);
        await using var gw = await GatewayHost.StartAsync(yaml);
        using (var refused = await gw.PostAsync(Chat, Body(1)))
        {
            var error = JsonDocument.Parse(await Http.ReadBodyAsync(refused)).RootElement.GetProperty("error");
            Assert.Equal(503, (int)refused.StatusCode);
            Assert.Equal("budgets_unavailable", error.GetProperty("code").GetString());
            Assert.Equal("1", Http.Header(refused, "Retry-After"));
        }
        using (var admitted = await gw.PostAsync(Chat, Body(1), key: TestKeys.Limited)) Assert.Equal(200, (int)admitted.StatusCode);
        using (var usage = await gw.GetAsync("/v1/usage")) Assert.Equal(503, (int)usage.StatusCode);
        var metrics = await MetricsTests.ScrapeAsync(gw);
        Assert.Equal(1, metrics.Value("llm_gateway_requests_rejected_total", ("reason", "budgets_unavailable")));
        Assert.True(metrics.Value("llm_gateway_budget_store_failures_total", ("store", "redis"), ("mode", "closed")) >= 1);
        // The admitted request's charge could not be taken either: counted, never thrown.
        var until = DateTime.UtcNow.AddSeconds(5);
        while (metrics.Value("llm_gateway_budget_charge_failures_total", ("store", "redis")) < 1 && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
            metrics = await MetricsTests.ScrapeAsync(gw);
        }
        Assert.Equal(1, metrics.Value("llm_gateway_budget_charge_failures_total", ("store", "redis")));
    }
}
