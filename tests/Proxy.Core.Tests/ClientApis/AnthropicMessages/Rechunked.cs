using System.Buffers;
using System.Text;
using Proxy.Providers;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

/// <summary>
/// Runs a stream transcoder as the relay does, reads arriving in arbitrary pieces (the pattern of the provider tests'
/// Rechunk): the output must not depend on where the socket split the stream.
/// </summary>
internal static class Rechunked
{
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
        if (!state.Completed && !state.Failed) transcoder.Complete(output, ref state);
        return (Encoding.UTF8.GetString(output.WrittenSpan), state);
    }

    /// <summary>The stream whole, split at every offset, and a byte at a time: the same output and state each time.</summary>
    public static (string Output, StreamState State) EveryOffset(Func<StreamTranscoder> newTranscoder, byte[] stream)
    {
        var expected = Run(newTranscoder(), [stream]);
        for (int offset = 1; offset < stream.Length; offset++)
        {
            var split = Run(newTranscoder(), [stream.AsMemory(0, offset), stream.AsMemory(offset)]);
            Assert.True(expected.Output == split.Output, $"output differs when the stream is split at byte {offset}");
            Assert.Equal(expected.State, split.State);
        }
        var bytes = Run(newTranscoder(), Enumerable.Range(0, stream.Length).Select(i => (ReadOnlyMemory<byte>)stream.AsMemory(i, 1)));
        Assert.Equal(expected.Output, bytes.Output);
        Assert.Equal(expected.State, bytes.State);
        return expected;
    }
}
