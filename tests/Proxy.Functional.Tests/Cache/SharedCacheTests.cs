using System.Text;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Redis.Tests;

namespace Proxy.Functional.Tests.Cache;

/// <summary>
/// The response cache shared through a real redis-server by two real gateway processes (the executable, as replicas run
/// it): an answer a request missed on replica A is a hit on replica B, plain and streamed, with the same bytes; the
/// entry is one Redis key with the route's time to live; with Redis gone, requests miss and are answered, never failed.
/// </summary>
[Collection(nameof(Heavy))]
public sealed class SharedCacheTests
{
    private static string Config(int redisPort, string logs) => $$"""
        redis:
          url: redis://127.0.0.1:{{redisPort}}
        cache:
          store: redis
        limits:
          timeout: 250ms
        providers:
          mock:
            type: mock
            completion_tokens: 5
        routes:
          mock-gpt:
            provider: mock
            cache: { ttl: 5m }
        keys:
          - id: shared
            hash: {{TestKeys.Hash(TestKeys.All)}}
        logs:
          directory: {{logs}}
        """;

    private static async Task<(string? Cache, string? Type, byte[] Body)> PostAsync(HttpClient client, string body)
    {
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        return (Http.Header(response, "x-gateway-cache"), response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AMissOnReplicaA_IsAHitOnReplicaB_PlainAndStreamed()
    {
        using var redis = RedisServer.Start();
        var dir = Directory.CreateTempSubdirectory("proxy-shared-cache-").FullName;
        var gateways = new List<GatewayProcess>();
        var clients = new List<HttpClient>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                var path = Path.Combine(dir, $"gateway-{i}.yaml");
                await File.WriteAllTextAsync(path, Config(redis.Port, Path.Combine(dir, $"logs-{i}")));
                var g = await GatewayProcess.StartAsync(path);
                gateways.Add(g);
                var client = new HttpClient { BaseAddress = new Uri(g.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
                client.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.All);
                clients.Add(client);
            }
            const string plain = """{"model":"mock-gpt","messages":[{"role":"user","content":"shared cache"}]}""";
            const string stream = """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"shared cache"}]}""";

            var missA = await PostAsync(clients[0], plain);
            var hitB = await PostAsync(clients[1], plain);
            Assert.Equal(("miss", "hit"), (missA.Cache, hitB.Cache));
            Assert.Equal("application/json", hitB.Type);
            Assert.Equal(missA.Body, hitB.Body);

            var streamMissA = await PostAsync(clients[0], stream);
            var streamHitB = await PostAsync(clients[1], stream);
            Assert.Equal(("miss", "hit"), (streamMissA.Cache, streamHitB.Cache));
            Assert.Equal("text/event-stream", streamHitB.Type);
            Assert.Equal(streamMissA.Body, streamHitB.Body);
            Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(streamHitB.Body), StringComparison.Ordinal);

            // Two entries, each one key under the prefix's hash tag, expiring with the route's ttl.
            using (var admin = redis.Connect())
            {
                var server = admin.GetServer(admin.GetEndPoints()[0]);
                var keys = server.Keys(pattern: "{llmgw}:cache:*").ToList();
                Assert.Equal(2, keys.Count);
                foreach (var key in keys)
                {
                    Assert.Matches("^\\{llmgw\\}:cache:[0-9a-f]{64}$", key.ToString());
                    var ttl = await admin.GetDatabase().KeyTimeToLiveAsync(key);
                    Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
                }
            }

            // Redis gone: every request is a miss the provider answers; the failed reads are counted.
            redis.Kill();
            var afterKill = await PostAsync(clients[1], plain);
            Assert.Equal("miss", afterKill.Cache);
            var metrics = await clients[1].GetStringAsync("/metrics");
            Assert.Matches("llm_gateway_cache_store_failures_total\\{store=\"redis\",operation=\"read\"\\} [1-9]", metrics);
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
            foreach (var g in gateways) await g.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
