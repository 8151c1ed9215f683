using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Metrics;

namespace Proxy.Functional.Tests;

/// <summary>
/// Through the real host, the mock refuses the bodies the real OpenAI API refuses, with its 400: the error shape,
/// message, param and code the API writes, the request id, a request log record, and nothing counted against the target.
/// </summary>
public sealed class MockValidationTests
{
    private const string Chat = "/v1/chat/completions";
    private const string Embeddings = "/v1/embeddings";
    private const string InvalidInput = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

    /// <summary>The mock first; the fake upstream behind it would take a retry or a fallback, which must not happen.</summary>
    private const string Guarded = """
          mock-guarded:
            strategy: fallback
            targets:
              - { provider: mock, model: mock-1 }
              - { provider: up, model: upstream-model }
            retries: { attempts: 3, backoff: 10ms }
            circuit_breaker: { consecutive_failures: 2, failure_ratio: 0, open_for: 60s }
        """;

    public static TheoryData<string, string, string?, string?> ChatRefusals => new()
    {
        { """{"model":"mock-gpt","messages":{"role":"user","content":"hi"}}""", "Invalid type for 'messages': expected an array of objects, but got an object instead.", "messages", "invalid_type" },
        { """{"model":"mock-gpt","messages":"hi"}""", "Invalid type for 'messages': expected an array of objects, but got a string instead.", "messages", "invalid_type" },
        { """{"model":"mock-gpt","messages":null}""", "Invalid type for 'messages': expected an array of objects, but got null instead.", "messages", "invalid_type" },
        { """{"model":"mock-gpt"}""", "Missing required parameter: 'messages'.", "messages", "missing_required_parameter" },
        { """{"model":"mock-gpt","messages":[]}""", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array" },
        { """{"model":"mock-gpt","messages":["hi"]}""", "Invalid type for 'messages[0]': expected an object, but got a string instead.", "messages[0]", "invalid_type" },
        { """{"model":"mock-gpt","messages":[{"role":"foo","content":"hi"}]}""", "Invalid value: 'foo'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", "messages[0].role", "invalid_value" },
        { """{"model":"mock-gpt","messages":[{"role":"user"}]}""", "Invalid value for 'content': expected a string, got null.", "messages.[0].content", null },
        { """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}],"temperature":2.5}""", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.", "temperature", "decimal_above_max_value" },
    };

    public static TheoryData<string, string> EmbeddingsRefusals => new()
    {
        { """{"model":"mock-gpt"}""", "'input' is a required property" },
        { """{"model":"mock-gpt","input":{"text":"hi"}}""", InvalidInput },
        { """{"model":"mock-gpt","input":null}""", InvalidInput },
        { """{"model":"mock-gpt","input":""}""", InvalidInput },
        { """{"model":"mock-gpt","input":[]}""", InvalidInput },
    };

    [Theory]
    [MemberData(nameof(ChatRefusals))]
    public async Task Chat_RefusedAsTheRealApiRefusesIt(string body, string message, string? param, string? code)
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, body, requestId: "rid-refused");

        var error = await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", code, param);
        Assert.Equal(message, Assertions.Message(error));
        AssertNullUnlessGiven(error, "param", param);
        AssertNullUnlessGiven(error, "code", code);
        Assert.Equal("rid-refused", Http.Header(response, "x-request-id"));
    }

    [Theory]
    [MemberData(nameof(EmbeddingsRefusals))]
    public async Task Embeddings_RefusedAsTheRealApiRefusesIt(string body, string message)
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Embeddings, body, requestId: "rid-refused");

        var error = await Assertions.AssertOpenAiError(response, 400, "invalid_request_error");
        Assert.Equal(message, Assertions.Message(error));
        AssertNullUnlessGiven(error, "param", null);
        AssertNullUnlessGiven(error, "code", null);
        Assert.Equal("rid-refused", Http.Header(response, "x-request-id"));
    }

    [Fact]
    public async Task Refusal_IsLogged_AndCountsAgainstNothing()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, Guarded));

        // Three refusals on a route that retries, falls back and breaks after two failures.
        for (int i = 0; i < 3; i++)
        {
            using var refused = await env.Gateway.PostAsync(Chat, """{"model":"mock-guarded","messages":[]}""", requestId: $"rid-refused-{i}");
            await Assertions.AssertOpenAiError(refused, 400, "invalid_request_error", "empty_array", "messages");
            Assert.Equal("1", Http.Header(refused, "x-gateway-attempts"));
        }
        // The breaker stayed closed: the mock still answers first.
        using (var ok = await env.Gateway.PostAsync(Chat, """{"model":"mock-guarded","messages":[{"role":"user","content":"hi"}]}""", requestId: "rid-ok"))
        {
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal("1", Http.Header(ok, "x-gateway-attempts"));
        }
        Assert.Empty(env.Upstream.Requests);

        var m = await MetricsTests.ScrapeAsync(env.Gateway);
        (string, string)[] mock = [("route", "mock-guarded"), ("provider", "mock"), ("model", "mock-1")];
        Assert.Equal(0, m.Value("llm_gateway_circuit_breaker_state", mock));
        Assert.Equal(0, m.Find("llm_gateway_upstream_errors_total").Sum(s => s.Value));
        Assert.Equal(0, m.Find("llm_gateway_retries_total").Sum(s => s.Value));
        Assert.Equal(0, m.Find("llm_gateway_fallbacks_total").Sum(s => s.Value));
        Assert.Equal(3, m.Value("llm_gateway_requests_total", ("route", "mock-guarded"), ("status", "400")));
        await env.Gateway.StopAsync();

        var records = RequestLogTests.ReadRecords(env.Gateway.LogDirectory).ToDictionary(r => r.GetProperty("request_id").GetString()!);
        for (int i = 0; i < 3; i++)
        {
            var record = records[$"rid-refused-{i}"];
            Assert.Equal(400, record.GetProperty("status").GetInt32());
            Assert.Equal("invalid_request_error", record.GetProperty("error_class").GetString());
            // The reason the gateway gives every refusal made before a call (FailureReasons.Unsupported): no upstream failed.
            Assert.Equal("unsupported", record.GetProperty("upstream_error").GetString());
            Assert.Equal("mock", record.GetProperty("provider").GetString());
            Assert.Equal(1, record.GetProperty("attempts").GetInt32());
        }
        Assert.Equal(200, records["rid-ok"].GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task ValidBodies_StillAnswered()
    {
        await using var env = await TestEnv.StartAsync();

        using var chat = await env.Gateway.PostAsync(Chat,
            """{"model":"mock-gpt","messages":[{"role":"developer","content":"Be terse."},{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"temperature":0,"top_p":1,"n":1}""");
        using var embeddings = await env.Gateway.PostAsync(Embeddings, """{"model":"mock-gpt","input":[[1,2,3],[4]]}""");

        Assert.Equal(200, (int)chat.StatusCode);
        Assert.Equal(200, (int)embeddings.StatusCode);
    }

    private static void AssertNullUnlessGiven(System.Text.Json.JsonElement error, string field, string? expected)
    {
        if (expected is null) Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty(field).ValueKind);
    }
}
