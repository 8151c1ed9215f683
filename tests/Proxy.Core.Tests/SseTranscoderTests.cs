using System.Buffers;
using System.Text;
using Proxy.Providers;
using Proxy.Streaming;

namespace Proxy.Core.Tests;

public class SseTranscoderTests
{
    private static readonly byte[] Fixture = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-stream-usage.sse"));

    /// <summary>Feeds the stream in the given pieces, as reads from a socket would deliver it, keeping what was not consumed.</summary>
    private static (string Output, StreamState State) Run(IEnumerable<byte[]> pieces, bool clientWantsUsage)
    {
        var transcoder = OpenAiSseTranscoder.For(clientWantsUsage);
        var output = new ArrayBufferWriter<byte>();
        var state = new StreamState();
        var pending = new List<byte>();
        foreach (var piece in pieces)
        {
            pending.AddRange(piece);
            var seq = Segments.Split(pending.ToArray());
            transcoder.Transcode(ref seq, output, ref state);
            pending = [.. seq.ToArray()];
        }
        return (Encoding.UTF8.GetString(output.WrittenSpan), state);
    }

    [Fact]
    public void WholeStream_ClientDidNotAskForUsage_UsageChunkStrippedButCounted()
    {
        var (output, state) = Run([Fixture], clientWantsUsage: false);
        Assert.DoesNotContain("\"choices\":[]", output, StringComparison.Ordinal);
        Assert.Contains("data: [DONE]\n\n", output, StringComparison.Ordinal);
        Assert.Contains(": keep-alive comment\n\n", output, StringComparison.Ordinal);
        Assert.True(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal(9, state.Usage.PromptTokens);
        Assert.Equal(2, state.Usage.CompletionTokens);
        Assert.Equal(4, state.Usage.CachedTokens);
        Assert.Equal(6, state.EventsWritten);
    }

    [Fact]
    public void WholeStream_ClientAskedForUsage_PassesEveryEventUnchanged()
    {
        var (output, state) = Run([Fixture], clientWantsUsage: true);
        Assert.Equal(Encoding.UTF8.GetString(Fixture), output);
        Assert.Equal(7, state.EventsWritten);
        Assert.True(state.Usage.Reported);
    }

    [Fact]
    public void SplitAtEveryByteOffset_GivesTheSameOutput()
    {
        var (expected, _) = Run([Fixture], clientWantsUsage: false);
        for (int cut = 1; cut < Fixture.Length; cut++)
        {
            var (output, state) = Run([Fixture[..cut], Fixture[cut..]], clientWantsUsage: false);
            Assert.Equal(expected, output);
            Assert.Equal(11, state.Usage.PromptTokens + state.Usage.CompletionTokens);
        }
    }

    [Fact]
    public void OneByteAtATime_GivesTheSameOutput()
    {
        var (expected, _) = Run([Fixture], clientWantsUsage: true);
        var (output, state) = Run(Fixture.Select(b => new[] { b }), clientWantsUsage: true);
        Assert.Equal(expected, output);
        Assert.True(state.Completed);
    }

    [Fact]
    public void CrLfLineEnds_AreFramedAndNormalized()
    {
        var crlf = Encoding.UTF8.GetBytes("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n");
        var (output, state) = Run([crlf], clientWantsUsage: false);
        Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n", output);
        Assert.True(state.Completed);
    }

    [Fact]
    public void IncompleteEvent_IsHeldBackUntilItsEnd()
    {
        var (output, state) = Run([Encoding.UTF8.GetBytes("data: {\"choices\":[]}\n")], clientWantsUsage: true);
        Assert.Equal("", output);
        Assert.Equal(0, state.EventsWritten);
    }

    [Fact]
    public void ProviderErrorEvent_IsPassedOnAndFailsTheStream()
    {
        var (output, state) = Run([Encoding.UTF8.GetBytes("data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n")], false);
        Assert.Contains("overloaded", output, StringComparison.Ordinal);
        Assert.True(state.Failed);
    }

    [Fact]
    public void EventLargerThanTheStackBuffer_IsHandled()
    {
        var big = new string('x', 10_000);
        var evt = Encoding.UTF8.GetBytes($"data: {{\"choices\":[{{\"delta\":{{\"content\":\"{big}\"}}}}]}}\n\n");
        var (output, _) = Run([evt[..5000], evt[5000..]], false);
        Assert.Equal(Encoding.UTF8.GetString(evt), output);
    }
}

/// <summary>Builds multi-segment sequences so parsers meet segment boundaries as they do with pooled socket buffers.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] data, int segmentSize = 7)
    {
        if (data.Length <= segmentSize) return new ReadOnlySequence<byte>(data);
        Segment first = new(data.AsMemory(0, segmentSize)), last = first;
        for (int i = segmentSize; i < data.Length; i += segmentSize) last = last.Append(data.AsMemory(i, Math.Min(segmentSize, data.Length - i)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

public class SseTranscoderWhitespaceTests
{
    [Fact]
    public void SpacedJson_UsageChunkIsStillFoundAndStripped()
    {
        var spaced = System.Text.Encoding.UTF8.GetBytes(
            "data: {\"choices\": [{\"delta\": {\"content\": \"hi\"}}], \"usage\": null}\n\n" +
            "data: {\"choices\": [ ], \"usage\": {\"prompt_tokens\": 3, \"completion_tokens\": 1}}\n\n" +
            "data: [DONE]\n\n");
        var seq = new System.Buffers.ReadOnlySequence<byte>(spaced);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var state = new Proxy.Providers.StreamState();
        Proxy.Streaming.OpenAiSseTranscoder.For(clientWantsUsage: false).Transcode(ref seq, output, ref state);
        var text = System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.DoesNotContain("prompt_tokens", text, StringComparison.Ordinal);
        Assert.Equal(3, state.Usage.PromptTokens);
        Assert.Equal(2, state.EventsWritten);
    }

    [Fact]
    public void UsageWordInsideContent_IsNotMistakenForTheUsageField()
    {
        var evt = System.Text.Encoding.UTF8.GetBytes("data: {\"choices\":[],\"x\":\"\\\"usage\\\":{\"}\n\n");
        var seq = new System.Buffers.ReadOnlySequence<byte>(evt);
        var state = new Proxy.Providers.StreamState();
        Proxy.Streaming.OpenAiSseTranscoder.For(false).Transcode(ref seq, new System.Buffers.ArrayBufferWriter<byte>(), ref state);
        Assert.False(state.Usage.Reported);
        Assert.Equal(1, state.EventsWritten);
    }
}
