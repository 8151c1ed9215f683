using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Proxy.ClientApis;
using Proxy.Providers;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

public class ChatRequestWriterTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "AnthropicMessages", name));

    private static JsonNode Convert(string request)
    {
        var output = new ArrayBufferWriter<byte>();
        ClientApi.AnthropicMessages.WriteChatRequest(Encoding.UTF8.GetBytes(request), output);
        return JsonNode.Parse(output.WrittenSpan)!;
    }

    /// <summary>Compares as JSON; a tool call's arguments (JSON text in a string) are compared as the JSON they hold.</summary>
    private static void AssertChat(string expected, JsonNode actual)
    {
        var want = Normalized(JsonNode.Parse(expected)!);
        var got = Normalized(actual.DeepClone());
        Assert.True(JsonNode.DeepEquals(want, got), "expected:\n" + want.ToJsonString() + "\nactual:\n" + got.ToJsonString());
    }

    private static JsonNode Normalized(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var (name, value) in obj.ToList())
            {
                if (value is null) continue;
                obj[name] = name == "arguments" && value is JsonValue text ? JsonNode.Parse((string)text!) : Normalized(value.DeepClone());
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                if (array[i] is { } item) array[i] = Normalized(item.DeepClone());
            }
        }
        return node;
    }

    private static CallRejectedException Refused(string request) => Assert.Throws<CallRejectedException>(() => Convert(request));

    [Fact]
    public void ToolRoundTrip_AsTheAnthropicSdkSendsIt_IsTheCanonicalChatRequest()
    {
        var chat = Convert(Fixture("tool-round-trip.request.json"));
        AssertChat(Fixture("tool-round-trip.chat.json"), chat);
    }

    [Fact]
    public void Images_Base64AndUrl_AreImageUrlParts()
    {
        var chat = Convert("""
            {"model":"m","max_tokens":100,"messages":[{"role":"user","content":[
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo\/AAA="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
              {"type":"text","text":"What are these?"}]}]}
            """);
        AssertChat("""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo/AAA="}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
              {"type":"text","text":"What are these?"}]}],
             "max_completion_tokens":100}
            """, chat);
    }

    [Fact]
    public void ToolResults_WithImagesAndErrors_AreToolMessagesThenOneUserMessage()
    {
        var chat = Convert("""
            {"model":"m","max_tokens":100,"messages":[
              {"role":"assistant","content":[
                {"type":"tool_use","id":"toolu_1","name":"screenshot","input":{}},
                {"type":"tool_use","id":"toolu_2","name":"read_file","input":{"path":"a \"b\".txt"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"Captured."},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}]},
                {"type":"tool_result","tool_use_id":"toolu_2","is_error":true,"content":"No such file"},
                {"type":"text","text":"Go on."}]}]}
            """);
        AssertChat("""
            {"model":"m","messages":[
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"toolu_1","type":"function","function":{"name":"screenshot","arguments":"{}"}},
                {"id":"toolu_2","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a \\\"b\\\".txt\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"Captured."},
              {"role":"tool","tool_call_id":"toolu_2","content":"Error: No such file"},
              {"role":"user","content":[
                {"type":"text","text":"Image from the result of tool call toolu_1:"},
                {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}},
                {"type":"text","text":"Go on."}]}],
             "max_completion_tokens":100}
            """, chat);
    }

    [Fact]
    public void SystemString_StopSequences_TopKDropped_NoStream()
    {
        var chat = Convert("""
            {"model":"claude-haiku-4-5","max_tokens":1024,"system":"Be terse.","top_k":40,"top_p":0.9,
             "stop_sequences":["\n\nHuman:","END"],"stream":false,"service_tier":"auto",
             "messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Count to 3"}]}
            """);
        AssertChat("""
            {"model":"claude-haiku-4-5","messages":[
              {"role":"system","content":"Be terse."},
              {"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Count to 3"}],
             "max_completion_tokens":1024,"stop":["\n\nHuman:","END"],"top_p":0.9}
            """, chat);
    }

    [Fact]
    public void AnAssistantTurnOfThinkingOnly_IsLeftOut()
    {
        var chat = Convert("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"a"},
              {"role":"assistant","content":[{"type":"redacted_thinking","data":"EmwKAhgB"}]},{"role":"user","content":"b"}]}
            """);
        Assert.Equal(2, chat["messages"]!.AsArray().Count);
    }

    [Fact]
    public void StringsAreCopiedAsTheClientEscapedThem()
    {
        var output = new ArrayBufferWriter<byte>();
        ClientApi.AnthropicMessages.WriteChatRequest(
            """{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"q\""}]}"""u8, output);
        Assert.Contains("""{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"q\""}""", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"", null)]
    [InlineData("""{"type":"any"}""", "\"required\"", null)]
    [InlineData("""{"type":"none"}""", "\"none\"", null)]
    [InlineData("""{"type":"tool","name":"get_weather","disable_parallel_tool_use":true}""", """{"type":"function","function":{"name":"get_weather"}}""", false)]
    public void ToolChoice_IsOpenAis(string choice, string expected, bool? parallel)
    {
        var chat = Convert("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}],
             "tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":
            """ + choice + "}");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), chat["tool_choice"]), chat.ToJsonString());
        Assert.Equal(parallel, (bool?)chat["parallel_tool_calls"]);
    }

    [Theory]
    [InlineData("""{"type":"enabled","budget_tokens":1024}""", "low")]
    [InlineData("""{"type":"enabled","budget_tokens":4000}""", "low")]
    [InlineData("""{"type":"enabled","budget_tokens":10000}""", "medium")]
    [InlineData("""{"type":"enabled","budget_tokens":31999}""", "high")]
    [InlineData("""{"type":"adaptive"}""", null)]
    [InlineData("""{"type":"disabled"}""", null)]
    public void ThinkingBudget_PicksAReasoningEffort(string thinking, string? expected)
    {
        var chat = Convert("""{"model":"m","max_tokens":64000,"messages":[{"role":"user","content":"x"}],"thinking":""" + thinking + "}");
        Assert.Equal(expected, (string?)chat["reasoning_effort"]);
    }

    [Fact]
    public void OutputConfig_EffortWins_AndTheFormatIsAJsonSchemaResponseFormat()
    {
        var chat = Convert("""
            {"model":"m","max_tokens":100,"messages":[{"role":"user","content":"x"}],
             "thinking":{"type":"enabled","budget_tokens":2000},
             "output_config":{"effort":"max","format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}
            """);
        Assert.Equal("high", (string?)chat["reasoning_effort"]);
        AssertChat("""{"type":"json_schema","json_schema":{"name":"output","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}""",
            chat["response_format"]!);
    }

    [Fact]
    public void ADocument_IsRefusedWithItsPath()
    {
        var e = Refused("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Summarize"},
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}}]}]}
            """);
        Assert.Equal(CallRejectedException.UnsupportedCode, e.Failure.Code);
        Assert.Equal("messages[0].content[1]", e.Param);
    }

    [Fact]
    public void AMalformedImageSource_IsInvalidWithItsPath()
    {
        var e = Refused("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},
              {"role":"user","content":[{"type":"image","source":"cat.png"}]}]}
            """);
        Assert.Equal(CallRejectedException.InvalidCode, e.Failure.Code);
        Assert.Equal("messages[2].content[0].source", e.Param);
    }

    [Fact]
    public void AnImageInsideAToolResult_NamesItsPathWhenMalformed()
    {
        var e = Refused("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[
              {"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png"}}]}]}]}
            """);
        Assert.Equal("messages[0].content[0].content[0].source.data", e.Param);
    }

    [Fact]
    public void AnImageByFileId_IsUnsupported()
    {
        var e = Refused("""{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_011"}}]}]}""");
        Assert.Equal(CallRejectedException.UnsupportedCode, e.Failure.Code);
        Assert.Equal("messages[0].content[0].source", e.Param);
    }

    [Theory]
    [InlineData("mcp_servers", """[{"type":"url","url":"https://mcp.example.com","name":"x"}]""")]
    [InlineData("inference_geo", "\"us\"")]
    [InlineData("frobnicate", "true")]
    public void AnUnknownTopLevelField_IsRefusedByName(string field, string value)
    {
        var e = Refused($$"""{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}],"{{field}}":""" + value + "}");
        Assert.Equal(CallRejectedException.UnsupportedCode, e.Failure.Code);
        Assert.Equal(field, e.Param);
        Assert.Contains(field, e.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HarmlessAnthropicOnlyFields_AreDropped()
    {
        var chat = Convert("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}],"service_tier":"standard_only","container":"container_1",
             "context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"top_k":5}
            """);
        AssertChat("""{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":10}""", chat);
    }

    [Fact]
    public void AServerTool_IsRefusedWithItsPath()
    {
        var e = Refused("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}],
             "tools":[{"name":"f","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search","max_uses":5}]}
            """);
        Assert.Equal(CallRejectedException.UnsupportedCode, e.Failure.Code);
        Assert.Equal("tools[1].type", e.Param);
    }

    [Theory]
    [InlineData("""{"max_tokens":10,"messages":[]}""", "model")]
    [InlineData("""{"model":"m","max_tokens":10}""", "messages")]
    [InlineData("""{"model":"m","max_tokens":"10","messages":[]}""", "max_tokens")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"x"}]}""", "messages[0].role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":5}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"text":"no type"}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result"}]}]}""", "messages[0].content[0].tool_use_id")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":[1]}]}]}""", "messages[0].content[0].input")]
    [InlineData("""{"model":"m","messages":[],"system":[{"type":"image"}]}""", "system[0].type")]
    [InlineData("""{"model":"m","messages":[],"stop_sequences":["a",1]}""", "stop_sequences[1]")]
    [InlineData("""{"model":"m","messages":[],"tools":[{"name":"f"}]}""", "tools[0].input_schema")]
    [InlineData("""{"model":"m","messages":[],"tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"tool"}}""", "tool_choice.name")]
    [InlineData("""{"model":"m","messages":[],"thinking":{"type":"enabled"}}""", "thinking.budget_tokens")]
    public void MalformedRequests_AreInvalidWithTheParamPath(string request, string param)
    {
        var e = Refused(request);
        Assert.Equal(CallRejectedException.InvalidCode, e.Failure.Code);
        Assert.Equal(400, e.Failure.Status);
        Assert.Equal(param, e.Param);
    }

    [Fact]
    public void NotJson_IsInvalid()
    {
        var e = Refused("""{"model":"m",""");
        Assert.Equal(CallRejectedException.InvalidCode, e.Failure.Code);
    }
}
