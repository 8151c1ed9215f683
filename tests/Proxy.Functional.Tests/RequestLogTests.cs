using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Every request the gateway answers leaves exactly one record in the request log, and no credential.</summary>
public sealed class RequestLogTests
{
    private const string Chat = "/v1/chat/completions";

    [Fact]
    public async Task NRequests_LeaveExactlyNRecords_WithTheirRequestIds()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        var sent = new List<string>();
        async Task Send(string body, string? key = TestKeys.All)
        {
            using var response = await env.Gateway.PostAsync(Chat, body, key);
            await response.Content.ReadAsStringAsync();
            sent.Add(response.Headers.GetValues("x-request-id").Single());
        }

        for (int i = 0; i < 20; i++) await Send("""{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""");
        for (int i = 0; i < 10; i++) await Send("""{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        for (int i = 0; i < 10; i++) await Send("""{"model":"gpt-test","messages":[]}""");
        for (int i = 0; i < 5; i++) await Send("""{"model":"nope"}""");
        for (int i = 0; i < 5; i++) await Send("""{"model":"mock-gpt"}""", key: "sk-gw-wrong");
        await env.Gateway.StopAsync();

        var records = ReadRecords(env.Gateway.LogDirectory);
        Assert.Equal(50, records.Count);
        Assert.Equal(sent.Order(), records.Select(r => r.GetProperty("request_id").GetString()!).Order());
        Assert.Equal(50, records.Select(r => r.GetProperty("request_id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Records_CarryKeyRouteUsageStatusAndErrorClass()
    {
        await using var env = await TestEnv.StartAsync();
        using (var ok = await env.Gateway.PostAsync(Chat, """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""")) Assert.Equal(200, (int)ok.StatusCode);
        using (var stream = await env.Gateway.PostAsync(Chat, """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}""")) await stream.Content.ReadAsStringAsync();
        using (var missing = await env.Gateway.PostAsync(Chat, """{"model":"nope"}""")) Assert.Equal(404, (int)missing.StatusCode);
        using (var bad = await env.Gateway.PostAsync(Chat, "{}", key: "sk-gw-wrong")) Assert.Equal(401, (int)bad.StatusCode);
        await env.Gateway.StopAsync();

        var records = ReadRecords(env.Gateway.LogDirectory).ToDictionary(r => (r.GetProperty("status").GetInt32(), r.GetProperty("stream").GetBoolean()));
        var plain = records[(200, false)];
        Assert.Equal(1, plain.GetProperty("schema_version").GetInt32());
        Assert.Equal("all", plain.GetProperty("key_id").GetString());
        Assert.Equal("mock-gpt", plain.GetProperty("route").GetString());
        Assert.Equal("mock", plain.GetProperty("provider").GetString());
        Assert.Equal("mock-1", plain.GetProperty("upstream_model").GetString());
        Assert.Equal(5, plain.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.True(plain.GetProperty("usage").GetProperty("reported").GetBoolean());
        Assert.True(plain.GetProperty("latency_us").GetProperty("total").GetInt64() > 0);

        var streamed = records[(200, true)];
        Assert.Equal(5, streamed.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.True(streamed.GetProperty("latency_us").GetProperty("ttft").GetInt64() > 0);

        Assert.Equal("not_found_error", records[(404, false)].GetProperty("error_class").GetString());
        var refused = records[(401, false)];
        Assert.Equal("authentication_error", refused.GetProperty("error_class").GetString());
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("key_id").ValueKind);
    }

    [Fact]
    public async Task Log_NeverContainsKeysOrProviderCredentials_EvenWithFullBodies()
    {
        var logs = Directory.CreateTempSubdirectory("proxy-ft-full-").FullName;
        try
        {
            await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url) + $"\nlogs:\n  bodies: full\n  directory: {logs}\n");
            env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
            using (var r = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[{"role":"user","content":"secret prompt"}]}"""))
                Assert.Equal(200, (int)r.StatusCode);
            await env.Gateway.StopAsync();

            var text = string.Join('\n', ReadLines(logs));
            Assert.Contains("secret prompt", text, StringComparison.Ordinal); // bodies: full keeps the request body
            Assert.Contains("Hello from upstream", text, StringComparison.Ordinal); // and the answer
            Assert.DoesNotContain(TestKeys.All, text, StringComparison.Ordinal);
            Assert.DoesNotContain(TestKeys.UpstreamSecret, text, StringComparison.Ordinal);
            Assert.DoesNotContain("authorization", text, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(logs, recursive: true);
        }
    }

    internal static List<JsonElement> ReadRecords(string dir) =>
        ReadLines(dir).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

    private static IEnumerable<string> ReadLines(string dir)
    {
        foreach (var file in Directory.GetFiles(dir, "*.jsonl.gz", SearchOption.AllDirectories).Order())
        {
            using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length > 0) yield return line;
            }
        }
    }
}
