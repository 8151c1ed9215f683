using System.Text;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Providers.Bedrock.Converse;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>
/// ConverseStream event streams in (Fixtures/stream), neutral events out (the *.events.txt fixtures) and, through the
/// OpenAI chat writer, OpenAI chunks out: every fixture is fed split at every byte offset and byte by byte and must
/// give the same bytes and state as one whole read.
/// </summary>
public class ConverseStreamTests
{
    private static Func<StreamTranscoder> Transcoder(bool includeUsage) =>
        () => new DecodingTranscoder(Decoder(), new ChatChunkWriter(1_700_000_000, includeUsage, "chatcmpl-req-1"));

    private static Func<StreamTranscoder> EventLog => () => new DecodingTranscoder(Decoder(), new EventLogWriter());

    private static ConverseStreamDecoder Decoder() => new(BedrockFixtures.ModelJson, "bedrock");

    private static byte[] Events(string name) => EventStreamEncoder.FromDescription(BedrockFixtures.Text($"stream/{name}.events.json"));

    private static byte[] Recorded => Convert.FromBase64String(BedrockFixtures.Text("eventstream/bedrock-claude-tool-use.b64").Trim());

    [Fact]
    public void Stream_Text_BecomesContentChunks_UsageChunk_AndDone()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: true), Events("text"));

        Golden.Assert("stream/text.usage.sse", output);
        Assert.True(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal((1836L, 3L, 1800L, 24L), (state.Usage.PromptTokens, state.Usage.CompletionTokens, state.Usage.CachedTokens, state.Usage.CacheWriteTokens));
        Assert.Equal(6, state.EventsWritten); // role, 2 text (the empty delta is dropped), finish, usage, [DONE]
    }

    [Theory]
    [InlineData("text")]            // start without an id, text as escaped upstream, usage with cache reads and writes
    [InlineData("parallel-tools")]  // tool calls indexed by tool call, not by content block; input fragments as they came
    [InlineData("reasoning")]       // reasoning text and signature; redactedContent left out
    [InlineData("throttled")]       // an exception frame: the error, classified, and nothing after it
    public void Stream_Fixture_BecomesNeutralEvents(string name)
    {
        var (output, _) = Rechunk.EveryOffset(EventLog, Events(name));

        Golden.Assert($"stream/{name}.events.txt", output);
    }

    [Fact]
    public void Stream_Reasoning_IsLeftOutOfOpenAiChunks()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: true), Events("reasoning"));

        Golden.Assert("stream/reasoning.usage.sse", output);
        Assert.True(state.Completed);
        Assert.DoesNotContain("keep it brief", output, StringComparison.Ordinal);
        Assert.Equal((1215L, 1000L, 200L), (state.Usage.PromptTokens, state.Usage.CachedTokens, state.Usage.CacheWriteTokens));
    }

    [Fact]
    public void Stream_ClientDidNotAskForUsage_GetsNoUsageChunk_ButAccountingHasIt()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: false), Events("text"));

        Golden.Assert("stream/text.sse", output);
        Assert.DoesNotContain("usage", output, StringComparison.Ordinal);
        Assert.True(state.Usage.Reported);
        Assert.Equal(1836, state.Usage.PromptTokens);
    }

    [Fact]
    public void Stream_RecordedBedrockToolUse_BecomesTextThenToolCallChunks()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: true), Recorded);

        Golden.Assert("stream/recorded-tool-use.usage.sse", output);
        Assert.True(state.Completed);
        Assert.Equal((386L, 75L), (state.Usage.PromptTokens, state.Usage.CompletionTokens));
        Assert.Contains("\"tool_calls\":[{\"index\":0,\"id\":\"tooluse_QklrEHKjRu6Oc4BQUfy7ZQ\",\"type\":\"function\",\"function\":{\"name\":\"cosine\",\"arguments\":\"\"}}]", output,
            StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ParallelToolUseBlocks_GetTheirOwnToolCallIndexes()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: false), Events("parallel-tools"));

        Golden.Assert("stream/parallel-tools.sse", output);
        Assert.True(state.Completed);
        Assert.Contains("{\"index\":1,\"id\":\"tooluse_oslo\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_MaxTokens_FinishesWithLength()
    {
        var (output, _) = Rechunk.EveryOffset(Transcoder(includeUsage: false), Events("length"));
        Assert.Contains("\"finish_reason\":\"length\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ThrottlingExceptionFrame_EndsWithRateLimitErrorEvent_AndReadsNothingAfter()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: false), Events("throttled"));

        Golden.Assert("stream/throttled.sse", output);
        Assert.True(state.Failed);
        Assert.False(state.Completed);
        Assert.DoesNotContain("never sent", output, StringComparison.Ordinal);
        Assert.EndsWith("""data: {"error":{"message":"Upstream 'bedrock' stream failed (throttlingException): Too many tokens, please wait before trying again.","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}""" + "\n\n",
            output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ModelStreamErrorException_EndsWithUpstreamErrorEvent()
    {
        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: false), Events("model-stream-error"));
        Assert.True(state.Failed);
        Assert.Contains("\"code\":\"model_error\"", output, StringComparison.Ordinal);
        Assert.Contains("Model produced invalid sequence", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_CorruptedCrc_EndsWithAClearErrorEvent_NeverGarbage()
    {
        var stream = Events("text");
        // Flip one payload byte of the third frame ({"contentBlockIndex":0,"delta":{"text":""}...}).
        int third = FrameOffset(stream, 2);
        stream[third + 100] ^= 0x20;

        var (output, state) = Rechunk.EveryOffset(Transcoder(includeUsage: false), stream);

        Assert.True(state.Failed);
        Assert.Equal(3, state.EventsWritten); // role, "Hello", the error
        Assert.Contains("message CRC mismatch", output, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"upstream_stream_corrupt\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("world", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ImpossibleLengthWithValidPreludeCrc_IsRejectedBeforeWaitingForBytes()
    {
        var frame = new byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame, 0x7FFF_FFFF);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), System.IO.Hashing.Crc32.HashToUInt32(frame.AsSpan(0, 8)));

        var (output, state) = Rechunk.Whole(Transcoder(false)(), frame);

        Assert.True(state.Failed);
        Assert.Contains("impossible frame length 2147483647", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_CutBeforeMetadata_IsNotComplete()
    {
        var stream = Events("length");
        var cut = stream.AsSpan(0, FrameOffset(stream, 4)).ToArray();
        var (_, state) = Rechunk.EveryOffset(Transcoder(includeUsage: true), cut);
        Assert.False(state.Completed);
        Assert.False(state.Failed);
        Assert.False(state.Usage.Reported);
    }

    private static int FrameOffset(byte[] stream, int index)
    {
        int at = 0;
        for (int i = 0; i < index; i++) at += (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(at));
        return at;
    }
}

/// <summary>Expected outputs kept as files; a missing one is written from the actual output (then reviewed by hand) and the test fails.</summary>
internal static class Golden
{
    public static void Assert(string relative, string actual)
    {
        var path = Path.Combine(BedrockFixtures.Dir, relative);
        if (!File.Exists(path))
        {
            var source = Path.Combine(SourceDir(), "Bedrock", "Fixtures", relative);
            File.WriteAllText(source, actual, new UTF8Encoding(false));
            Xunit.Assert.Fail($"golden file {relative} was missing; wrote it to {source}: review it");
        }
        Xunit.Assert.Equal(File.ReadAllText(path, Encoding.UTF8), actual);
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string file = "") => Path.GetDirectoryName(Path.GetDirectoryName(file))!;
}
