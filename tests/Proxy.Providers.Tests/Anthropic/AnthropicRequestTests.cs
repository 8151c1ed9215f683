using Microsoft.AspNetCore.Http;
using Proxy.Providers.Tests.Common;
using static Proxy.Providers.Tests.Anthropic.AnthropicTestSupport;

namespace Proxy.Providers.Tests.Anthropic;

public class AnthropicRequestTests
{
    [Theory]
    [InlineData("plain")]
    [InlineData("options")]
    [InlineData("tools")]
    [InlineData("images")]
    public void Request_Fixture_BecomesTheExactMessagesRequest(string name)
    {
        var (_, body) = Build(Fixture.Text("Anthropic", name + ".openai.json"));

        Fixture.JsonEqual(Fixture.Text("Anthropic", name + ".anthropic.json"), body);
    }

    [Fact]
    public void Request_GoesToMessagesWithApiKeyVersionAndClientBetaHeader()
    {
        var client = new HeaderDictionary
        {
            ["anthropic-beta"] = "context-1m-2025-08-07",
            ["Authorization"] = "Bearer sk-gw-the-gateway-key",
        };
        var (request, _) = Build(Fixture.Text("Anthropic", "plain.openai.json"), client);

        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https://api.anthropic.com/v1/messages", request.RequestUri!.ToString());
        Assert.Equal("sk-ant-test", Assert.Single(request.Headers.GetValues("x-api-key")));
        Assert.Equal("2023-06-01", Assert.Single(request.Headers.GetValues("anthropic-version")));
        Assert.Equal("context-1m-2025-08-07", Assert.Single(request.Headers.GetValues("anthropic-beta")));
        Assert.False(request.Headers.Contains("Authorization")); // the client's gateway key never goes upstream
        Assert.Equal("application/json", request.Content!.Headers.ContentType!.MediaType);
    }

    [Fact]
    public void Request_ConfiguredVersionAndDefaultMaxTokens_AreUsed()
    {
        var adapter = Adapter(Settings(extra: new() { ["anthropic_version"] = "2099-01-01", ["default_max_tokens"] = "1234" }));

        var (request, body) = Build("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""", adapter: adapter);

        Assert.Equal("2099-01-01", Assert.Single(request.Headers.GetValues("anthropic-version")));
        Assert.Contains("\"max_tokens\":1234", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_Stream_AsksForEventStream()
    {
        var (request, body) = Build("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal("text/event-stream", Assert.Single(request.Headers.GetValues("Accept")));
        Assert.Contains("\"stream\":true", body, StringComparison.Ordinal);
        Assert.DoesNotContain("stream_options", body, StringComparison.Ordinal); // Anthropic streams always carry usage
    }

    [Theory]
    [InlineData("\"auto\"", """{"type":"auto"}""")]
    [InlineData("\"none\"", """{"type":"none"}""")]
    [InlineData("\"required\"", """{"type":"any"}""")]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", """{"type":"tool","name":"f"}""")]
    public void Request_ToolChoice_Maps(string openAi, string anthropic)
    {
        var (_, body) = Build($$$"""{"model":"c","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{{{openAi}}}}""");

        using var doc = System.Text.Json.JsonDocument.Parse(body);
        Fixture.JsonEqual(anthropic, doc.RootElement.GetProperty("tool_choice").GetRawText());
    }

    [Fact]
    public void Request_ParallelToolCallsFalseWithoutChoice_DisablesParallelOnAuto()
    {
        var (_, body) = Build("""{"model":"c","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false}""");

        Assert.Contains("\"tool_choice\":{\"type\":\"auto\",\"disable_parallel_tool_use\":true}", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_StopArrayAndSafetyIdentifier_Map()
    {
        var (_, body) = Build("""{"model":"c","messages":[{"role":"user","content":"x"}],"stop":["a","b"],"safety_identifier":"hash-1"}""");

        Assert.Contains("\"stop_sequences\":[\"a\",\"b\"]", body, StringComparison.Ordinal);
        Assert.Contains("\"metadata\":{\"user_id\":\"hash-1\"}", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_ResponseFormatText_IsNoChange()
    {
        var (_, body) = Build("""{"model":"c","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}""");

        Assert.DoesNotContain("output_config", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}""", "response_format")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}""", "response_format.json_schema.schema")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"n":2}""", "n")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"logprobs":true}""", "logprobs")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"modalities":["text","audio"]}""", "modalities")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"functions":[]}""", "functions")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}""", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}""", "messages[0].content[0].file")]
    [InlineData("""{"model":"c","messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"c","messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"c","messages":[{"role":"tool","content":"x"}]}""", "messages[0].tool_call_id")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}""", "tools[0].type")]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"allowed_tools"}}""", "tool_choice")]
    [InlineData("""{"model":"c","messages":[{"role":"wizard","content":"x"}]}""", "messages[0].role")]
    public void Request_WhatAnthropicCannotHonour_IsRefusedNamingTheField(string body, string param)
    {
        var error = Refused(body);

        Assert.Equal(param, error.Param);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void Request_JsonObjectRefusal_SaysWhatToSendInstead()
    {
        var error = Refused("""{"model":"c","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}""");

        Assert.Contains("json_schema", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_Embeddings_AreRefused()
    {
        var adapter = Adapter();
        var call = Fixture.Call(adapter.Settings, """{"model":"c","input":"x"}"""u8.ToArray(), Model, Operation.Embeddings);

        var error = Assert.Throws<CallRejectedException>(() => adapter.BuildRequest(call));
        Assert.Contains("embeddings", error.Message, StringComparison.Ordinal);
    }
}
