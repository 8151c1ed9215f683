using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// The official OpenAI .NET SDK, unchanged, pointed at the gateway with the test key, as the provider scenarios use it:
/// no retries (a test sees every failure as it happened) and bounded waits.
/// </summary>
internal static class Sdk
{
    public static OpenAIClientOptions Options(string gatewayBaseUrl) => new()
    {
        Endpoint = new Uri(gatewayBaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(10),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    public static ChatClient Chat(string gatewayBaseUrl, string route) => new(route, new ApiKeyCredential(TestKeys.All), Options(gatewayBaseUrl));

    public static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token;

    /// <summary>Streams one answer and gathers what a client sees of it: the text, the finish reason and the usage chunk.</summary>
    public static async Task<(string Text, ChatFinishReason? Finish, ChatTokenUsage? Usage)> StreamTextAsync(ChatClient chat, IEnumerable<ChatMessage> messages)
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, cancellationToken: Timeout()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        return (text.ToString(), finish, usage);
    }
}
