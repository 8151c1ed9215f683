using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Helpers;
using Anthropic.Models.Messages;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.ClientApis;

/// <summary>
/// The official Anthropic .NET SDK (NuGet "Anthropic"), unchanged, pointed at the gateway with the test key, and the
/// requests the scenarios send with it: no retries (a test sees every failure as it happened) and bounded waits.
/// </summary>
internal static class AnthropicDotnetSdk
{
    public static AnthropicClient Client(TestEnv env) => new(new ClientOptions
    {
        ApiKey = TestKeys.All,
        // The SDK appends /v1/messages itself, as it does to https://api.anthropic.com.
        BaseUrl = env.Gateway.BaseUrl,
        MaxRetries = 0,
        Timeout = TimeSpan.FromSeconds(15),
    });

    public static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    public static Tool WeatherTool { get; } = new()
    {
        Name = "get_weather",
        Description = "The weather in a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement> { ["city"] = JsonElement.Parse("""{"type":"string"}""") },
            Required = ["city"],
        },
    };

    public static MessageCreateParams Ask(string model, string question, bool withTools = false) => new()
    {
        Model = model,
        MaxTokens = 200,
        Messages = [new UserMessageParam(question)],
        Tools = withTools ? [WeatherTool] : null,
    };

    /// <summary>
    /// The question, the assistant turn that asked for the tool (sent back as the SDK's param types, as an
    /// application replays history), and the tool's result for that call.
    /// </summary>
    public static MessageCreateParams AnswerTool(string model, string question, ToolUseBlock call, string result) => new()
    {
        Model = model,
        MaxTokens = 200,
        Tools = [WeatherTool],
        Messages =
        [
            new UserMessageParam(question),
            new AssistantMessageParam(new List<ContentBlockParam> { new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } }),
            new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(call.ID) { Content = result } }),
        ],
    };

    public static string Text(Message message) =>
        string.Concat(message.Content.Select(block => block.TryPickText(out var text) ? text.Text : ""));

    public static ToolUseBlock ToolCall(Message message) =>
        message.Content.Select(block => block.TryPickToolUse(out var call) ? call : null).Single(call => call is not null)!;

    /// <summary>What an application sees of a stream: the event types, the text deltas, the last usage, and the SDK's own aggregate.</summary>
    public sealed record Streamed(IReadOnlyList<string> Events, string Text, MessageDeltaUsage? Usage, Message Final);

    public static async Task<Streamed> StreamAsync(AnthropicClient client, MessageCreateParams parameters)
    {
        var aggregator = new MessageContentAggregator();
        var events = new List<string>();
        var text = new StringBuilder();
        MessageDeltaUsage? usage = null;
        await foreach (var streamEvent in client.Messages.CreateStreaming(parameters, Timeout()).CollectAsync(aggregator))
        {
            events.Add(streamEvent.Type.Raw());
            if (streamEvent.TryPickContentBlockDelta(out var blockDelta) && blockDelta.Delta.TryPickText(out var textDelta)) text.Append(textDelta.Text);
            if (streamEvent.TryPickDelta(out var messageDelta)) usage = messageDelta.Usage;
        }
        return new Streamed(events, text.ToString(), usage, aggregator.Message());
    }
}
