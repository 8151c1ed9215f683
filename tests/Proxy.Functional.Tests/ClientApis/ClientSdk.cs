using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The two npm client SDK scripts (anthropic-sdk.cjs, responses-sdk.cjs) run against one gateway, and what every
/// provider's client-API test checks of their results: each client's own usage convention, error shape, event order.
/// </summary>
internal static class ClientSdk
{
    public const string Anthropic = "anthropic-sdk.cjs";
    public const string Responses = "responses-sdk.cjs";

    /// <summary>The event types of a Messages stream with one content block, in the order Anthropic sends them (pings aside).</summary>
    public static readonly string[] MessageEventOrder =
        ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"];

    /// <summary>The scenario's result; fails the test when the SDK threw.</summary>
    public static async Task<JsonElement> OkAsync(string script, string scenario, GatewayHost gateway, string model) =>
        NodeSdk.Ok(await NodeSdk.RunAsync(script, scenario, gateway.BaseUrl, model));

    /// <summary>The SDK's error for a scenario that must fail: its HTTP status, its error type, and the message it shows.</summary>
    public static async Task<JsonElement> FailsAsync(string script, string scenario, GatewayHost gateway, string model, int status, string? type, string messageContains)
    {
        var run = await NodeSdk.RunAsync(script, scenario, gateway.BaseUrl, model);
        Assert.False(run.GetProperty("ok").GetBoolean(), "the SDK did not throw: " + run);
        Assert.Equal(status, run.GetProperty("status").GetInt32());
        if (type is not null) Assert.Equal(type, run.GetProperty("type").GetString());
        Assert.Contains(messageContains, run.GetProperty("message").GetString(), StringComparison.Ordinal);
        return run;
    }

    /// <summary>Anthropic's convention: input_tokens are the prompt tokens neither read from nor written to the cache.</summary>
    public static void AssertMessageUsage(JsonElement message, int input, int cacheRead, int output, int cacheWrite = 0)
    {
        var usage = message.GetProperty("usage");
        Assert.Equal((input, cacheRead, cacheWrite, output), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("cache_read_input_tokens").GetInt32(),
            usage.GetProperty("cache_creation_input_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32()));
    }

    /// <summary>OpenAI's convention: input_tokens are the whole prompt, the cache reads among them in input_tokens_details.</summary>
    public static void AssertResponseUsage(JsonElement response, int input, int cached, int output)
    {
        var usage = response.GetProperty("usage");
        Assert.Equal((input, cached, output, input + output), (usage.GetProperty("input_tokens").GetInt32(),
            usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32()));
    }

    /// <summary>A streamed message as the SDK assembled it: Anthropic's events in order, and the text.</summary>
    public static void AssertMessageStream(JsonElement stream, string text)
    {
        Assert.Equal(MessageEventOrder, Events(stream).Where(e => e != "ping").Distinct());
        Assert.Equal(text, stream.GetProperty("text").GetString());
    }

    /// <summary>A streamed response as the SDK assembled it: created first, completed last, numbered from 0 without gaps.</summary>
    public static void AssertResponseStream(JsonElement stream, string text)
    {
        var events = Events(stream).ToList();
        Assert.Equal("response.created", events[0]);
        Assert.Equal("response.completed", events[^1]);
        Assert.Contains("response.output_text.delta", events);
        var sequence = stream.GetProperty("sequence").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
        Assert.Equal(text, stream.GetProperty("deltas").GetString());
        Assert.Equal(text, stream.GetProperty("output_text").GetString());
        Assert.Equal("completed", stream.GetProperty("status").GetString());
    }

    /// <summary>The tool_use blocks of a message summary, as (name, city) pairs.</summary>
    public static List<(string? Name, string? City)> ToolUses(JsonElement message) =>
        message.GetProperty("tools").EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString(), t.GetProperty("input").GetProperty("city").GetString())).ToList();

    /// <summary>The function_call items of a response summary, as (name, city) pairs (arguments are a JSON string).</summary>
    public static List<(string? Name, string? City)> FunctionCalls(JsonElement response) =>
        response.GetProperty("output").EnumerateArray().Where(i => i.GetProperty("type").GetString() == "function_call")
            .Select(i => (i.GetProperty("name").GetString(), JsonDocument.Parse(i.GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString()))
            .ToList();

    public static IEnumerable<string> Events(JsonElement result) => result.GetProperty("events").EnumerateArray().Select(e => e.GetString()!);

    /// <summary>Stops the gateway (the request log drains) and returns its records of successful calls in one client API.</summary>
    public static async Task<List<JsonElement>> RecordsAsync(GatewayHost gateway, string clientApi)
    {
        await gateway.StopAsync();
        return RequestLogTests.ReadRecords(gateway.LogDirectory)
            .Where(r => r.GetProperty("client_api").GetString() == clientApi && r.GetProperty("status").GetInt32() == 200).ToList();
    }

    /// <summary>A record's usage, normalized to OpenAI's convention whatever the client or provider speaks.</summary>
    public static void AssertRecordUsage(JsonElement record, long prompt, long cached, long completion, long cacheWrite = 0)
    {
        var usage = record.GetProperty("usage");
        Assert.True(usage.GetProperty("reported").GetBoolean());
        Assert.Equal((prompt, cached, cacheWrite, completion), (usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("cached_tokens").GetInt64(),
            usage.GetProperty("cache_write_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64()));
    }
}
