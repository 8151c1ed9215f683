using System.Buffers;
using System.Text;
using Proxy.Providers;

namespace Proxy.Providers.Tests.Common;

/// <summary>
/// Runs a stream transcoder the way the relay does: reads arrive in arbitrary pieces, each call consumes only
/// whole upstream events, and what is left waits for the next read. <see cref="EveryOffset"/> proves a transcoder
/// gives the same output wherever the socket happens to split the stream.
/// </summary>
public static class Rechunk
{
    /// <summary>Feeds <paramref name="stream"/> in the given pieces; returns the client bytes and the final state.</summary>
    public static (string Output, StreamState State) Run(StreamTranscoder transcoder, IEnumerable<ReadOnlyMemory<byte>> pieces)
    {
        var output = new ArrayBufferWriter<byte>();
        var state = default(StreamState);
        var pending = new List<byte>();
        foreach (var piece in pieces)
        {
            pending.AddRange(piece.ToArray());
            var input = new ReadOnlySequence<byte>(pending.ToArray());
            transcoder.Transcode(ref input, output, ref state);
            pending = [.. input.ToArray()];
        }

        // The upstream's body ended: as the relay does, let a transcoder whose stream has no end marker finish it.
        if (!state.Completed && !state.Failed) transcoder.Complete(output, ref state);
        return (Encoding.UTF8.GetString(output.WrittenSpan), state);
    }

    /// <summary>The whole stream in one read.</summary>
    public static (string Output, StreamState State) Whole(StreamTranscoder transcoder, byte[] stream) =>
        Run(transcoder, [stream]);

    /// <summary>The stream split in two at <paramref name="offset"/>.</summary>
    public static (string Output, StreamState State) SplitAt(StreamTranscoder transcoder, byte[] stream, int offset) =>
        Run(transcoder, [stream.AsMemory(0, offset), stream.AsMemory(offset)]);

    /// <summary>One byte per read: every event boundary lands mid-read.</summary>
    public static (string Output, StreamState State) ByteByByte(StreamTranscoder transcoder, byte[] stream) =>
        Run(transcoder, Enumerable.Range(0, stream.Length).Select(i => (ReadOnlyMemory<byte>)stream.AsMemory(i, 1)));

    /// <summary>
    /// Asserts that splitting the stream at every byte offset, and feeding it a byte at a time, gives the same client
    /// bytes and state as one whole read. <paramref name="newTranscoder"/> makes a fresh transcoder per run.
    /// </summary>
    public static (string Output, StreamState State) EveryOffset(Func<StreamTranscoder> newTranscoder, byte[] stream)
    {
        var expected = Whole(newTranscoder(), stream);
        for (int offset = 1; offset < stream.Length; offset++)
        {
            var split = SplitAt(newTranscoder(), stream, offset);
            Assert.True(expected.Output == split.Output, $"output differs when the stream is split at byte {offset}");
            Assert.Equal(expected.State, split.State);
        }

        var bytes = ByteByByte(newTranscoder(), stream);
        Assert.Equal(expected.Output, bytes.Output);
        Assert.Equal(expected.State, bytes.State);
        return expected;
    }
}
