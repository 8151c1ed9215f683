using System.Text;
using Proxy.Providers.Gemini;

namespace Proxy.Providers.Tests.Gemini;

/// <summary>OpenAI requests in, the exact Gemini GenerateContentRequest out.</summary>
public class GeminiRequestTests
{
    [Theory]
    [InlineData("chat-plain")]   // system + developer to systemInstruction, roles, generation config, max_completion_tokens over max_tokens
    [InlineData("chat-tools")]   // tools, tool_choice, tool_calls to functionCall (signature restored), tool results to functionResponse
    [InlineData("chat-media")]   // data URLs inline, gs:// and https by reference with a MIME type, audio, files
    [InlineData("chat-schema")]  // response_format json_schema: $ref/$defs, anyOf/oneOf, const, enums, dropped keywords
    public void Request_Fixture_BecomesTheGeminiRequest(string name)
    {
        var body = GeminiRequest.Translate(GeminiFixtures.Bytes(name + ".openai.json"), "gemini");

        Assert.Equal(GeminiFixtures.Normalize(GeminiFixtures.Text(name + ".gemini.json")), GeminiFixtures.Normalize(body));
    }

    [Fact]
    public void Request_JsonObjectFormat_AsksForJson()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}""");

        Assert.Contains("\"generationConfig\":{\"responseMimeType\":\"application/json\"}", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"auto\"", "{\"mode\":\"AUTO\"}")]
    [InlineData("\"none\"", "{\"mode\":\"NONE\"}")]
    [InlineData("\"required\"", "{\"mode\":\"ANY\"}")]
    public void Request_ToolChoice_BecomesFunctionCallingMode(string choice, string config)
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":""" + choice + "}");

        Assert.Contains("\"toolConfig\":{\"functionCallingConfig\":" + config + "}", body, StringComparison.Ordinal);
        Assert.Contains("\"functionDeclarations\":[{\"name\":\"f\"}]", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_StopList_BecomesStopSequences()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b"],"max_tokens":5}""");

        Assert.Contains("\"generationConfig\":{\"maxOutputTokens\":5,\"stopSequences\":[\"a\",\"b\"]}", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"n":2}""", "n > 1 is not supported by provider type 'gemini'", "unsupported_by_provider", "n")]
    [InlineData("""{"model":"m","messages":[]}""", "'messages' must be a non-empty array", "invalid_request_body", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"critic","content":"hi"}]}""", "role 'critic'", "invalid_request_body", "messages[0].role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"video_url","video_url":{"url":"x"}}]}]}""", "content part type 'video_url'", "unsupported_by_provider", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}""", "image_url must be a base64 data URL", "invalid_request_body", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}""", "must be base64", "invalid_request_body", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}""", "file_id refers to OpenAI's Files API", "unsupported_by_provider", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"nope","content":"x"}]}""", "tool_call_id 'nope' matches no tool call", "invalid_request_body", "messages[1].tool_call_id")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}""", "arguments must be a JSON object", "unsupported_by_provider", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search"}]}""", "tool type 'web_search'", "unsupported_by_provider", "tools[0].type")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}}""", "This tool_choice is not supported", "unsupported_by_provider", "tool_choice")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}}""", "response_format type 'xml'", "unsupported_by_provider", "response_format.type")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "'temperature' must be a number", "invalid_request_body", "temperature")]
    public void Request_Untranslatable_IsRejectedWith400NamingTheParam(string json, string message, string code, string param)
    {
        var e = Assert.Throws<CallRejectedException>(() => GeminiRequest.Translate(Encoding.UTF8.GetBytes(json), "gemini"));

        Assert.Equal(400, e.Failure.Status);
        Assert.Equal("invalid_request_error", e.Failure.Type);
        Assert.Equal(code, e.Failure.Code);
        Assert.Equal(param, e.Param);
        Assert.Contains(message, e.Failure.Message, StringComparison.Ordinal);
    }

    private static string Translate(string json) => Encoding.UTF8.GetString(GeminiRequest.Translate(Encoding.UTF8.GetBytes(json), "gemini"));
}
