using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Providers.Mock;
using Proxy.Providers.Tests.Common;
using Proxy.Providers.Tests.OpenAI;
using static Proxy.Providers.Tests.Mock.MockTestSupport;

namespace Proxy.Providers.Tests.Mock;

/// <summary>The mock's answers, in OpenAI's format, decoded for clients that speak another API.</summary>
public class MockDecodingTests
{
    private static async Task<(ProviderAdapter Adapter, UpstreamCall Call, byte[] Body)> AnswerAsync(string body)
    {
        var adapter = Adapter();
        var call = Call(body);
        using var request = adapter.BuildRequest(call);
        using var response = await adapter.Invoker.SendAsync(request, CancellationToken.None);
        return (adapter, call, await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>The texts among recorded events, joined and unescaped.</summary>
    private static string Texts(IEnumerable<string> events) =>
        string.Concat(events.Where(e => e.StartsWith("text ", StringComparison.Ordinal)).Select(e => JsonNode.Parse(e["text ".Length..])!.GetValue<string>()));

    [Theory]
    [InlineData("", 16, "finish Stop")]
    [InlineData(",\"max_tokens\":4", 4, "finish Length")]
    public async Task Stream_DecodedAtEveryOffset_GivesTheMocksTextAndUsage(string extra, int tokens, string finish)
    {
        var (adapter, call, body) = await AnswerAsync(Chat(Hello, "\"stream\":true" + extra));
        using var _ = adapter;

        var (output, state) = Rechunk.EveryOffset(() => new DecodingTranscoder(adapter.CreateStreamDecoder(call), new RecordingAnswerWriter()), body);
        var events = RecordingAnswerWriter.Lines(output);

        Assert.StartsWith("start \"chatcmpl-mock-", events[0], StringComparison.Ordinal);
        Assert.EndsWith(" \"mock-1\"", events[0], StringComparison.Ordinal);
        Assert.Equal(MockText.Text(tokens), Texts(events));
        Assert.Equal(finish, events[^2]);
        Assert.True(state.Completed);
        Assert.Equal(new Usage { PromptTokens = MockText.PromptTokens(call.Body.Length), CompletionTokens = tokens, Reported = true }, state.Usage);
    }

    [Fact]
    public async Task Stream_RewrittenAsOpenAiChunks_SaysWhatTheMockSaid()
    {
        var (adapter, call, body) = await AnswerAsync(Chat(Hello, "\"stream\":true"));
        using var _ = adapter;

        var (output, _) = Rechunk.EveryOffset(
            () => new DecodingTranscoder(adapter.CreateStreamDecoder(call), new ChatChunkWriter(1_700_000_000, clientWantsUsage: true)), body);

        Assert.Equal(ChatSummary.FromStream(Encoding.UTF8.GetString(body)), ChatSummary.FromStream(output));
    }

    [Fact]
    public async Task Answer_Decoded_GivesTheMocksTextAndUsage()
    {
        var (adapter, call, body) = await AnswerAsync(Chat(Hello));
        using var _ = adapter;
        var writer = new RecordingAnswerWriter();
        var output = new ArrayBufferWriter<byte>();
        writer.Bind(output);

        adapter.DecodeAnswer(body, call, writer);

        var events = RecordingAnswerWriter.Lines(Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(MockText.Text(16), Texts(events));
        Assert.Equal("finish Stop", events[^2]);
        Assert.Equal(new Usage { PromptTokens = MockText.PromptTokens(call.Body.Length), CompletionTokens = 16, Reported = true }, writer.Usage);
    }

    [Fact]
    public async Task Answer_ThroughTheDefaultTranscode_IsTheSameCompletion()
    {
        var (adapter, call, body) = await AnswerAsync(Chat(Hello));
        using var _ = adapter;
        var output = new ArrayBufferWriter<byte>();
        var usage = default(Usage);

        adapter.TranscodeResponse(body, call, output, ref usage);

        Assert.Equal(ChatSummary.FromCompletion(Encoding.UTF8.GetString(body)), ChatSummary.FromCompletion(Encoding.UTF8.GetString(output.WrittenSpan)));
        Assert.Equal(16, usage.CompletionTokens);
    }
}
