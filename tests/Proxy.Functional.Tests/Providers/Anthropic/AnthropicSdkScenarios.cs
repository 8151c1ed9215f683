using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Anthropic;

/// <summary>
/// The official OpenAI .NET SDK, unchanged, against the gateway in front of a fake that speaks Anthropic's Messages
/// format (Anthropic's API or Claude on Vertex AI): plain, streamed and tool-call answers, and what the fake received.
/// Each scenario sets the fake's handler; the chat client asks for the route <c>claude-test</c>.
/// </summary>
internal static class AnthropicSdkScenarios
{
    public static ChatClient Chat(string gatewayBaseUrl) => Sdk.Chat(gatewayBaseUrl, "claude-test");

    private static CancellationToken Timeout() => Sdk.Timeout();

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    public static async Task PlainAsync(ChatClient chat, FakeUpstream upstream)
    {
        upstream.Handler = ctx => Upstream.Json(ctx, 200, AnthropicUpstream.TextMessage);

        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("hello")], cancellationToken: Timeout());

        Assert.Equal("Hello from Claude é ✓", completion.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("claude-sonnet-4-5-20250929", completion.Model);
        Assert.Equal(13, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
    }

    /// <summary>A streamed text answer; returns what the fake received for it.</summary>
    public static async Task<RecordedRequest> StreamingAsync(ChatClient chat, FakeUpstream upstream)
    {
        upstream.Handler = ctx => Upstream.Sse(ctx, AnthropicUpstream.TextStream);
        int before = upstream.Requests.Count;

        var (text, finish, usage) = await Sdk.StreamTextAsync(chat, [new UserChatMessage("hello")]);

        Assert.Equal("Hello", text);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(9, usage.InputTokenCount);
        Assert.Equal(2, usage.OutputTokenCount);
        var received = upstream.Requests.ElementAt(before);
        Assert.Equal("text/event-stream", received.Headers["Accept"]);
        using var sent = JsonDocument.Parse(received.Body);
        Assert.True(sent.RootElement.GetProperty("stream").GetBoolean());
        return received;
    }

    /// <summary>A tool call answered, then its result sent back: Claude gets tool_use and tool_result blocks.</summary>
    public static async Task ToolCallRoundTripAsync(ChatClient chat, FakeUpstream upstream)
    {
        int calls = 0;
        upstream.Handler = ctx => Upstream.Json(ctx, 200, Interlocked.Increment(ref calls) == 1 ? AnthropicUpstream.ToolUseMessage : AnthropicUpstream.TextMessage);
        int before = upstream.Requests.Count;
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), AllowParallelToolCalls = false };
        List<ChatMessage> messages = [new UserChatMessage("Weather in Paris?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, options, Timeout());

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("toolu_01", call.Id);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "18C and sunny"));
        ChatCompletion second = await chat.CompleteChatAsync(messages, options, Timeout());
        Assert.Equal("Hello from Claude é ✓", second.Content.Single().Text);

        var requests = upstream.Requests.Skip(before).ToArray();
        using var firstSent = JsonDocument.Parse(requests[0].Body);
        var tool = firstSent.RootElement.GetProperty("tools")[0];
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        Assert.Equal("object", tool.GetProperty("input_schema").GetProperty("type").GetString());
        Assert.Equal("any", firstSent.RootElement.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.True(firstSent.RootElement.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());

        // The second turn carries the call back as tool_use and its result as tool_result.
        using var secondSent = JsonDocument.Parse(requests[1].Body);
        var turns = secondSent.RootElement.GetProperty("messages");
        Assert.Equal(3, turns.GetArrayLength());
        var toolUse = turns[1].GetProperty("content")[0];
        Assert.Equal("tool_use", toolUse.GetProperty("type").GetString());
        Assert.Equal("Paris", toolUse.GetProperty("input").GetProperty("city").GetString());
        var toolResult = turns[2].GetProperty("content")[0];
        Assert.Equal("tool_result", toolResult.GetProperty("type").GetString());
        Assert.Equal("toolu_01", toolResult.GetProperty("tool_use_id").GetString());
    }

    public static async Task StreamingToolCallsAsync(ChatClient chat, FakeUpstream upstream)
    {
        upstream.Handler = ctx => Upstream.Sse(ctx, AnthropicUpstream.ToolStream);

        string? id = null, name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Rome?")], new ChatCompletionOptions { Tools = { Weather } }, Timeout()))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                Assert.Equal(0, tool.Index);
                id ??= tool.ToolCallId;
                name ??= tool.FunctionName;
                if (tool.FunctionArgumentsUpdate is { } args && !args.ToMemory().IsEmpty) arguments.Append(args.ToString());
            }
            finish ??= update.FinishReason;
        }

        Assert.Equal("toolu_09", id);
        Assert.Equal("get_weather", name);
        Assert.Equal("Rome", JsonDocument.Parse(arguments.ToString()).RootElement.GetProperty("city").GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }
}
