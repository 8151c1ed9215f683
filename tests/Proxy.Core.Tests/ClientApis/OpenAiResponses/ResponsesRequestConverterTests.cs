using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Ingress;
using Proxy.Providers;
using Proxy.Providers.Anthropic;
using static Proxy.Core.Tests.ClientApis.OpenAiResponses.ResponseEvents;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class ResponsesRequestConverterTests
{
    private const string WeatherTool =
        """{"type":"function","name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}""";

    private static string Convert(string body, StoredResponse? previous = null)
    {
        var output = new ArrayBufferWriter<byte>();
        ResponsesRequestConverter.Write(Encoding.UTF8.GetBytes(body), previous, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Expected JSON written with single quotes, for readability.</summary>
    private static string Q(string json) => json.Replace('\'', '"');

    private static CallRejectedException Refused(string body, StoredResponse? previous = null) =>
        Assert.Throws<CallRejectedException>(() => Convert(body, previous));

    [Fact]
    public void StringInput_WithSettings_MapsToTheirChatNames()
    {
        var chat = Convert("""
            {"model":"claude-sonnet","instructions":"You are terse.","input":"What is 2+2?","max_output_tokens":100,
             "temperature":0.3,"top_p":0.9,"stream":true,"user":"u-1","metadata":{"a":"b"},"store":true,
             "reasoning":{"effort":"low","summary":"auto"},"truncation":"auto","include":["reasoning.encrypted_content"],
             "text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},"strict":true},"verbosity":"low"},
             "stream_options":{"include_obfuscation":false},"parallel_tool_calls":false}
            """);

        Assert.Equal(Q(
            "{'model':'claude-sonnet','messages':[{'role':'system','content':'You are terse.'},{'role':'user','content':'What is 2+2?'}]," +
            "'parallel_tool_calls':false,'max_completion_tokens':100,'temperature':0.3,'top_p':0.9," +
            "'response_format':{'type':'json_schema','json_schema':{'name':'answer','schema':{'type':'object'},'strict':true}},'verbosity':'low'," +
            "'reasoning_effort':'low','user':'u-1','metadata':{'a':'b'},'stream':true,'stream_options':{'include_usage':true}}"),
            chat);

        // What the ingress peeks from it: the pipeline reads these from the canonical body.
        Assert.Null(RequestPeeker.TryPeek(Encoding.UTF8.GetBytes(chat), out var facts));
        Assert.True(facts.Stream);
        Assert.True(facts.IncludeUsage);
        Assert.Equal(100, facts.MaxTokens);
    }

    [Fact]
    public void FunctionCallRoundTrip_CallsJoinTheirTurn_OutputsBecomeToolMessages()
    {
        var chat = Convert($$"""
            {"model":"claude-sonnet","tools":[{{WeatherTool}}],"tool_choice":{"type":"function","name":"get_weather"},"input":[
              {"role":"user","content":"Weather in Paris and London?"},
              {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Two cities."}]},
              {"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Let me check.","annotations":[]}]},
              {"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
              {"type":"function_call","id":"fc_2","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"London\"}"},
              {"type":"function_call_output","call_id":"call_1","output":"18C"},
              {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"12C"}]}
            ]}
            """);

        Assert.Equal(Q(
            "{'model':'claude-sonnet','messages':[{'role':'user','content':'Weather in Paris and London?'}," +
            "{'role':'assistant','content':'Let me check.','tool_calls':[" +
            "{'id':'call_1','type':'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}}," +
            "{'id':'call_2','type':'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'London\\'}'}}]}," +
            "{'role':'tool','tool_call_id':'call_1','content':'18C'}," +
            "{'role':'tool','tool_call_id':'call_2','content':[{'type':'text','text':'12C'}]}]," +
            "'tools':[{'type':'function','function':{'name':'get_weather','description':'Current weather'," +
            "'parameters':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']},'strict':true}}]," +
            "'tool_choice':{'type':'function','function':{'name':'get_weather'}}}"),
            chat);

        // An adapter takes it as it takes any chat request: the calls and their results arrive as Claude's blocks.
        var anthropic = ToAnthropic(chat);
        var messages = anthropic.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        var turn = messages[1].GetProperty("content");
        Assert.Equal(["text", "tool_use", "tool_use"], turn.EnumerateArray().Select(b => b.GetProperty("type").GetString()));
        Assert.Equal("call_2", turn[2].GetProperty("id").GetString());
        Assert.Equal(["tool_result", "tool_result"], messages[2].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("type").GetString()));
    }

    [Fact]
    public void AssistantTextAfterCalls_StartsANewTurn()
    {
        using var doc = JsonDocument.Parse(Convert("""
            {"model":"m","input":[
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"role":"assistant","content":"Done."},
              {"role":"assistant","content":[{"type":"output_text","text":"More."},{"type":"refusal","refusal":"Not that."}]},
              {"role":"developer","content":[{"type":"input_text","text":"Stay on topic."}]}
            ]}
            """));
        var messages = doc.RootElement.GetProperty("messages");

        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal(JsonValueKind.Null, messages[0].GetProperty("content").ValueKind);
        Assert.Equal("c1", messages[0].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        var texts = messages[1].GetProperty("content");
        Assert.Equal(["Done.", "More.", "Not that."], texts.EnumerateArray().Select(p => p.GetProperty("text").GetString()));
        Assert.Equal("developer", messages[2].GetProperty("role").GetString());
        Assert.Equal("text", messages[2].GetProperty("content")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void ImagesAndInlineFiles_BecomeChatParts()
    {
        using var doc = JsonDocument.Parse(Convert("""
            {"model":"m","input":[{"role":"user","content":[
              {"type":"input_text","text":"Compare these."},
              {"type":"input_image","image_url":"https://example.com/a.png","detail":"high"},
              {"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="},
              {"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}]}]}
            """));
        var parts = doc.RootElement.GetProperty("messages")[0].GetProperty("content");

        Assert.Equal("""{"type":"text","text":"Compare these."}""", parts[0].GetRawText());
        Assert.Equal("""{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"high"}}""", parts[1].GetRawText());
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", parts[2].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("""{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"a.pdf"}}""", parts[3].GetRawText());
    }

    [Fact]
    public void PreviousResponse_ItsConversationComesFirst_ItsInstructionsDoNot()
    {
        // Turn 1, as the gateway would answer and store it.
        var body1 = Encoding.UTF8.GetBytes($$"""{"model":"m","instructions":"Be nice.","input":"Weather in Paris?","tools":[{{WeatherTool}}]}""");
        var writer = new ResponseBodyWriter(1, ResponseRequestFacts.Read(body1), "resp_t1");
        Run(writer, w =>
        {
            w.Text(Token("Checking."));
            w.ToolCallStart(0, Token("call_P"), Token("get_weather"));
            w.ToolCallArguments(0, Token("{\"city\":\"Paris\"}"));
            w.End();
        });
        var stored = new StoredResponse("key", "resp_t1", ResponseInputItems.Write(body1, null, "resp_t1"), writer.OutputItemsJson, writer.ResponseJson,
            DateTimeOffset.MaxValue);

        // Turn 2 continues it with the call's result.
        var body2 = $$"""
            {"model":"m","previous_response_id":"resp_t1","tools":[{{WeatherTool}}],
             "input":[{"type":"function_call_output","call_id":"call_P","output":"18C and sunny"}]}
            """;
        using var doc = JsonDocument.Parse(Convert(body2, stored));
        var messages = doc.RootElement.GetProperty("messages");

        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal("user", messages[0].GetProperty("role").GetString());
        Assert.Equal("Weather in Paris?", messages[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("Checking.", messages[1].GetProperty("content").GetString());
        Assert.Equal("call_P", messages[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal("{\"city\":\"Paris\"}", messages[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool", messages[2].GetProperty("role").GetString());
        Assert.Equal("call_P", messages[2].GetProperty("tool_call_id").GetString());

        // Turn 2's own stored input: the whole conversation so far, every item with an id.
        using var items = JsonDocument.Parse(ResponseInputItems.Write(Encoding.UTF8.GetBytes(body2), stored, "resp_t2"));
        Assert.Equal(["msg_t1_in_0", "msg_t1_0", "fc_t1_1", "fco_t2_in_0"], items.RootElement.EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal("18C and sunny", items.RootElement[3].GetProperty("output").GetString());
    }

    [Fact]
    public void PreviousResponseNotFound_IsRefusedAsOpenAiDoes()
    {
        var refused = Refused("""{"model":"m","previous_response_id":"resp_gone","input":"hi"}""");

        Assert.Equal(400, refused.Failure.Status);
        Assert.Equal("previous_response_not_found", refused.Failure.Code);
        Assert.Equal("previous_response_id", refused.Param);
        Assert.Contains("resp_gone", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"m","input":"hi","tools":[{"type":"function","name":"f"},{"type":"web_search"}]}""", "tools[1].type")]
    [InlineData("""{"model":"m","input":"hi","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}""", "tools[0].type")]
    [InlineData("""{"model":"m","input":"hi","tool_choice":{"type":"web_search_preview"}}""", "tool_choice.type")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"x"},{"type":"input_image","file_id":"file-1"}]}]}""", "input[0].content[1].file_id")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}""", "input[0].content[0].file_id")]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0]")]
    [InlineData("""{"model":"m","input":[{"type":"computer_call_output","call_id":"c","output":{}}]}""", "input[0].type")]
    [InlineData("""{"model":"m","input":[{"role":"system","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"m","input":"hi","background":true}""", "background")]
    [InlineData("""{"model":"m","input":"hi","conversation":"conv_1"}""", "conversation")]
    [InlineData("""{"model":"m","prompt":{"id":"pmpt_1"}}""", "prompt")]
    [InlineData("""{"model":"m","input":"hi","top_logprobs":3}""", "top_logprobs")]
    public void WhatOnlyOpenAiCanDo_IsRefusedAsUnsupported(string body, string param)
    {
        var refused = Refused(body);

        Assert.Equal(CallRejectedException.UnsupportedCode, refused.Failure.Code);
        Assert.Equal(param, refused.Param);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "input")]
    [InlineData("""{"model":"m","input":42}""", "input")]
    [InlineData("""{"model":"m","instructions":["x"],"input":"hi"}""", "instructions")]
    [InlineData("""{"model":"m","input":[{"role":"robot","content":"x"}]}""", "input[0].role")]
    [InlineData("""{"model":"m","input":[{"type":"function_call","call_id":"c","arguments":"{}"}]}""", "input[0].name")]
    [InlineData("""{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}""", "input[0].output")]
    [InlineData("""{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"n"}}}""", "text.format.schema")]
    [InlineData("""{"model":"m","input":"hi","tool_choice":"sometimes"}""", "tool_choice")]
    public void MalformedRequests_AreRefusedAsInvalid(string body, string param)
    {
        var refused = Refused(body);

        Assert.Equal(CallRejectedException.InvalidCode, refused.Failure.Code);
        Assert.Equal(param, refused.Param);
    }

    [Fact]
    public void JsonObjectFormat_AndStringToolChoice_PassAsTheyAre()
    {
        using var doc = JsonDocument.Parse(Convert("""{"model":"m","input":"hi","text":{"format":{"type":"json_object"}},"tool_choice":"required","tools":[]}"""));

        Assert.Equal("""{"type":"json_object"}""", doc.RootElement.GetProperty("response_format").GetRawText());
        Assert.Equal("required", doc.RootElement.GetProperty("tool_choice").GetString());
        Assert.False(doc.RootElement.TryGetProperty("tools", out _));
        Assert.False(doc.RootElement.TryGetProperty("stream", out _));
    }

    private static JsonElement ToAnthropic(string chat)
    {
        var body = Encoding.UTF8.GetBytes(chat);
        Assert.Null(RequestPeeker.TryPeek(body, out var facts));
        var output = new ArrayBufferWriter<byte>();
        AnthropicRequestWriter.Write(body, facts, "claude-sonnet-4-5", AnthropicDialect.Api(1024), output);
        using var doc = JsonDocument.Parse(output.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
