using System.Text;
using Proxy.Providers.Tests.Common;
using Proxy.Streaming;

namespace Proxy.Providers.Tests.OpenAI;

public class OpenAiStreamRechunkTests
{
    private static readonly byte[] Stream = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
        ": keep-alive\n\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\r\n\r\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n" +
        "data: [DONE]\n\n");

    [Fact]
    public void Stream_SplitAtEveryOffset_GivesTheSameChunksAndUsage()
    {
        var (output, state) = Rechunk.EveryOffset(() => OpenAiSseTranscoder.For(clientWantsUsage: false), Stream);

        Assert.True(state.Completed);
        Assert.Equal(5, state.Usage.PromptTokens);
        Assert.Equal(2, state.Usage.CompletionTokens);
        Assert.Contains("\"Hel\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\"", output, StringComparison.Ordinal); // the client did not ask for it
        Assert.EndsWith("data: [DONE]\n\n", output, StringComparison.Ordinal);
    }
}
