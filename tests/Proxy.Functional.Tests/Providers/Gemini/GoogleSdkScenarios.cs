using System.ClientModel;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Gemini;

/// <summary>
/// The official OpenAI .NET SDK, unchanged, against the gateway in front of a fake that speaks Gemini's format
/// (the Gemini API or Vertex AI): plain, streamed and tool-call answers. Each scenario sets the fake's handler.
/// </summary>
public static class GoogleSdkScenarios
{
    public static ChatClient Chat(string gatewayBaseUrl) => Sdk.Chat(gatewayBaseUrl, "flash");

    public static EmbeddingClient Embeddings(string gatewayBaseUrl) => new("flash", new ApiKeyCredential(TestKeys.All), Sdk.Options(gatewayBaseUrl));

    private static CancellationToken Timeout() => Sdk.Timeout();

    private static readonly ChatCompletionOptions WeatherTool = new()
    {
        Tools =
        {
            ChatTool.CreateFunctionTool("get_weather", "Current weather in a city",
                BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""")),
        },
    };

    public static async Task PlainAsync(ChatClient chat, FakeUpstream upstream)
    {
        upstream.Handler = ctx => Upstream.Json(ctx, 200, GeminiUpstream.Text("Hello from Gemini é ✓"));

        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("hello")], cancellationToken: Timeout());

        Assert.Equal("Hello from Gemini é ✓", completion.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(GeminiUpstream.Model, completion.Model);
        Assert.Equal(9, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        Assert.Equal(13, completion.Usage.TotalTokenCount);
    }

    public static async Task StreamingAsync(ChatClient chat, FakeUpstream upstream)
    {
        upstream.Handler = ctx => Upstream.Sse(ctx, GeminiUpstream.TextStream);

        var (text, finish, usage) = await Sdk.StreamTextAsync(chat, [new UserChatMessage("hello")]);

        Assert.Equal("Hello", text);
        Assert.Equal(ChatFinishReason.Stop, finish);
        // The SDK asks for stream usage; the gateway builds the usage chunk from Gemini's last usageMetadata.
        Assert.Equal(11, usage?.TotalTokenCount);
        Assert.Equal(2, usage?.OutputTokenCount);
    }

    /// <summary>A tool call answered, then the tool's result sent back: Gemini gets functionCall (with its thought signature) and functionResponse.</summary>
    public static async Task ToolCallRoundTripAsync(ChatClient chat, FakeUpstream upstream)
    {
        int calls = 0;
        upstream.Handler = ctx => Upstream.Json(ctx, 200, Interlocked.Increment(ref calls) == 1 ? GeminiUpstream.ToolCall : GeminiUpstream.Text("It is 21 degrees in Paris."));
        List<ChatMessage> messages = [new UserChatMessage("Weather in Paris?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, WeatherTool, Timeout());

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"temp_c": 21}"""));
        ChatCompletion second = await chat.CompleteChatAsync(messages, WeatherTool, Timeout());

        Assert.Equal("It is 21 degrees in Paris.", second.Content.Single().Text);
        var sent = upstream.Requests.Last();
        using var body = JsonDocument.Parse(sent.Body);
        var contents = body.RootElement.GetProperty("contents");
        Assert.Equal(3, contents.GetArrayLength());
        var modelPart = contents[1].GetProperty("parts")[0];
        Assert.Equal("model", contents[1].GetProperty("role").GetString());
        Assert.Equal("get_weather", modelPart.GetProperty("functionCall").GetProperty("name").GetString());
        Assert.Equal("Paris", modelPart.GetProperty("functionCall").GetProperty("args").GetProperty("city").GetString());
        Assert.Equal("c2lnLTE=", modelPart.GetProperty("thoughtSignature").GetString()); // Gemini 3 refuses the turn without it
        var response = contents[2].GetProperty("parts")[0].GetProperty("functionResponse");
        Assert.Equal("get_weather", response.GetProperty("name").GetString()); // looked up from the tool call id
        Assert.Equal(21, response.GetProperty("response").GetProperty("temp_c").GetInt32());
        var declaration = body.RootElement.GetProperty("tools")[0].GetProperty("functionDeclarations")[0];
        Assert.Equal("get_weather", declaration.GetProperty("name").GetString());
        Assert.Equal("OBJECT", declaration.GetProperty("parameters").GetProperty("type").GetString());
        Assert.False(declaration.GetProperty("parameters").TryGetProperty("additionalProperties", out _));
    }

    public static async Task StreamingToolCallsAsync(ChatClient chat, FakeUpstream upstream)
    {
        upstream.Handler = ctx => Upstream.Sse(ctx, GeminiUpstream.ToolStream);

        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var args = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris and Rome?")], WeatherTool, Timeout()))
        {
            foreach (var t in update.ToolCallUpdates)
            {
                if (t.ToolCallId is not null) ids[t.Index] = t.ToolCallId;
                if (t.FunctionName is not null) names[t.Index] = t.FunctionName;
                (args.TryGetValue(t.Index, out var sb) ? sb : args[t.Index] = new StringBuilder()).Append(t.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal([0, 1], ids.Keys.Order());
        Assert.Equal("get_weather", names[0]);
        Assert.Equal("""{"city":"Paris"}""", args[0].ToString());
        Assert.Equal("""{"city":"Rome"}""", args[1].ToString());
        Assert.NotEqual(ids[0], ids[1]);
    }

    /// <summary>The SDK asks for base64 vectors; the gateway encodes Google's floats. <paramref name="predict"/>: Vertex AI's shape, else the Gemini API's.</summary>
    public static async Task EmbeddingsAsync(EmbeddingClient client, FakeUpstream upstream, bool predict)
    {
        upstream.Handler = ctx => Upstream.Json(ctx, 200, predict
            ? """{"predictions": [{"embeddings": {"statistics": {"truncated": false, "token_count": 1}, "values": [0.5, -0.25, 0.125]}}, {"embeddings": {"statistics": {"truncated": false, "token_count": 1}, "values": [1, 0, 0]}}]}"""
            : """{"embeddings": [{"values": [0.5, -0.25, 0.125]}, {"values": [1, 0, 0]}]}""");

        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["alpha", "beta"], new EmbeddingGenerationOptions { Dimensions = 3 }, Timeout());

        Assert.Equal([0.5f, -0.25f, 0.125f], result[0].ToFloats().ToArray());
        Assert.Equal([1f, 0f, 0f], result[1].ToFloats().ToArray());
        using var sent = JsonDocument.Parse(upstream.Requests.Last().Body);
        if (predict)
        {
            Assert.Equal("beta", sent.RootElement.GetProperty("instances")[1].GetProperty("content").GetString());
            Assert.Equal(3, sent.RootElement.GetProperty("parameters").GetProperty("outputDimensionality").GetInt32());
            Assert.Equal(2, result.Usage.InputTokenCount);
        }
        else
        {
            var first = sent.RootElement.GetProperty("requests")[0];
            Assert.Equal("models/" + GeminiUpstream.Model, first.GetProperty("model").GetString());
            Assert.Equal("alpha", first.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        }
    }
}
