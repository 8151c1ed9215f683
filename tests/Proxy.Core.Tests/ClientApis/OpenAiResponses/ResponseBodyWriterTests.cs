using System.Text.Json;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.Providers;
using static Proxy.Core.Tests.ClientApis.OpenAiResponses.ResponseEvents;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class ResponseBodyWriterTests
{
    private static ResponseBodyWriter NewWriter() =>
        new(1_760_000_000, ResponseRequestFacts.Read("""{"model":"claude-haiku","instructions":"Be brief.","input":"hi"}"""u8), "resp_r1");

    [Fact]
    public void WholeAnswer_IsOneResponseObject()
    {
        var writer = NewWriter();
        var body = Run(writer, w =>
        {
            w.Start(Token("msg_01"), Token("claude-haiku-4-5"));
            w.Reasoning(Token("Thinking."));
            w.Text(Token("It is "));
            w.Text(Token("sunny."));
            w.ToolCallStart(0, Token("toolu_1"), Token("get_weather"));
            w.ToolCallArguments(0, Token("{\"city\":\"Paris\"}"));
            w.Finish(FinishReason.ToolCalls);
            w.SetUsage(new Usage { PromptTokens = 10, CompletionTokens = 5, CachedTokens = 4, Reported = true });
            w.End();
        });

        using var doc = JsonDocument.Parse(body);
        var r = doc.RootElement;
        Assert.Equal("resp_r1", r.GetProperty("id").GetString());
        Assert.Equal("response", r.GetProperty("object").GetString());
        Assert.Equal("completed", r.GetProperty("status").GetString());
        Assert.Equal("claude-haiku-4-5", r.GetProperty("model").GetString());
        Assert.Equal("Be brief.", r.GetProperty("instructions").GetString());
        Assert.True(r.GetProperty("store").GetBoolean()); // OpenAI's default
        Assert.Equal(JsonValueKind.Null, r.GetProperty("previous_response_id").ValueKind);
        Assert.Equal(0, r.GetProperty("tools").GetArrayLength());
        var output = r.GetProperty("output");
        Assert.Equal(3, output.GetArrayLength());
        Assert.Equal("rs_r1_0", output[0].GetProperty("id").GetString());
        Assert.Equal("Thinking.", output[0].GetProperty("summary")[0].GetProperty("text").GetString());
        Assert.Equal("It is sunny.", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("function_call", output[2].GetProperty("type").GetString());
        Assert.Equal("toolu_1", output[2].GetProperty("call_id").GetString());
        Assert.Equal("{\"city\":\"Paris\"}", output[2].GetProperty("arguments").GetString());
        Assert.Equal(15, r.GetProperty("usage").GetProperty("total_tokens").GetInt64());
        Assert.Equal(4, r.GetProperty("usage").GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.True(writer.Completed);
        Assert.Equal(1, writer.EventsWritten);
        Assert.Equal(body, System.Text.Encoding.UTF8.GetString(writer.ResponseJson));
    }

    [Fact]
    public void Length_IsIncomplete()
    {
        var body = Run(NewWriter(), w =>
        {
            w.Text(Token("Cut"));
            w.Finish(FinishReason.Length);
            w.End();
        });

        using var doc = JsonDocument.Parse(body);
        Assert.Equal("incomplete", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", doc.RootElement.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("usage").ValueKind);
    }

    [Fact]
    public void Failure_WritesNothing_AndSaysWhy()
    {
        var writer = NewWriter();
        var body = Run(writer, w =>
        {
            w.Text(Token("x"));
            w.Error("blocked", "invalid_request_error", "content_policy", 400);
            w.End();
        });

        Assert.Equal("", body);
        Assert.True(writer.Failed);
        Assert.False(writer.Completed);
        Assert.Equal(400, writer.Failure!.Value.Status);
        Assert.Equal("content_policy", writer.Failure.Value.Code);
    }
}
