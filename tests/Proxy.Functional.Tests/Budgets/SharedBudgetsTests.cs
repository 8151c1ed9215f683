using System.Globalization;
using System.Text;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Redis.Tests;

namespace Proxy.Functional.Tests.Budgets;

/// <summary>
/// A key's budget shared through a real redis-server by two real gateway processes: what either replica charges, both
/// read, to the nano-dollar; once the budget is spent, neither starts another request.
/// </summary>
[Collection(nameof(Heavy))]
public sealed class SharedBudgetsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string Config(int redisPort, string logs, string usd) => $$"""
        redis:
          url: redis://127.0.0.1:{{redisPort}}
        limits:
          store: redis
          timeout: 250ms
          replicas: 2
        {{BudgetsTests.Config(keyBudget: $"{{ usd: {usd}, period: month }}")}}
        logs:
          directory: {{logs}}
        """;

    private static async Task<(int Status, long Cost, string Text)> SendAsync(HttpClient client, int i)
    {
        using var r = await client.PostAsync("/v1/chat/completions", new StringContent(BudgetsTests.Body(i), Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, (int)r.StatusCode == 200 ? BudgetsTests.CostOf(JsonDocument.Parse(text).RootElement) : 0, text);
    }

    [Fact]
    public async Task TwoReplicas_ChargeOneBudget_AndBothRefuseOnceItIsSpent()
    {
        using var redis = RedisServer.Start();
        await using var replicas = await Replicas.StartAsync(2, logs => Config(redis.Port, logs, "0.0315"));

        // 400 requests spread over both replicas, 16 at a time: every cost lands in the one budget.
        using var gate = new SemaphoreSlim(16);
        var sent = await Task.WhenAll(Enumerable.Range(0, 400).Select(async i =>
        {
            await gate.WaitAsync();
            try { return await SendAsync(replicas.Clients[i % 2], i); }
            finally { gate.Release(); }
        }));
        Assert.All(sent, s => Assert.True(s.Status == 200, s.Text));
        long expected = sent.Sum(s => s.Cost);
        long a = await BudgetsTests.SpentWhenSettledAsync(replicas.Clients[0], expected);
        long b = await BudgetsTests.SpentWhenSettledAsync(replicas.Clients[1], expected);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"400 requests on 2 replicas: price table total {expected} nano-USD; replica 0 reads {a}, replica 1 reads {b}"));
        Assert.Equal((expected, expected), (a, b));

        // Then until the $0.0315 is spent (about 30 more), one request at a time alternating replicas, each charge seen before the next.
        const long budget = 31_500_000;
        long spent = expected;
        int i = 400;
        while (spent < budget)
        {
            var s = await SendAsync(replicas.Clients[i % 2], i);
            Assert.True(s.Status == 200, $"refused at {spent} of {budget}: {s.Text}");
            spent += s.Cost;
            Assert.Equal(spent, await BudgetsTests.SpentWhenSettledAsync(replicas.Clients[(i + 1) % 2], spent));
            i++;
        }
        output.WriteLine($"{i} requests admitted in all, spending {spent} of {budget} nano-USD");
        for (int k = 0; k < 4; k++)
        {
            var s = await SendAsync(replicas.Clients[k % 2], k);
            Assert.Equal(429, s.Status);
            Assert.Contains("budget_exceeded", s.Text, StringComparison.Ordinal);
        }
        Assert.Equal(spent, BudgetsTests.Spent(await BudgetsTests.UsageAsync(replicas.Clients[0])));

        foreach (var client in replicas.Clients)
        {
            var metrics = await client.GetStringAsync("/metrics");
            Assert.DoesNotMatch("llm_gateway_budget_(store|charge)_failures_total\\{[^}]*\\} [1-9]", metrics);
        }
    }
}
