using System.Buffers;
using Proxy.Providers;

namespace Proxy.Answers;

/// <summary>
/// A provider's decoder and a client API's writer joined into the relay's <see cref="StreamTranscoder"/>: the provider
/// side reads its wire format into neutral events, the client side writes them in the client's. Used whenever the
/// client and the provider speak different APIs; when they speak the same one, the provider's bytes pass through.
/// </summary>
public sealed class DecodingTranscoder(StreamDecoder decoder, AnswerWriter writer) : StreamTranscoder
{
    public override void Transcode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output, ref StreamState state)
    {
        writer.Bind(output);
        decoder.Decode(ref input, writer);
        Sync(ref state);
    }

    public override void Complete(IBufferWriter<byte> output, ref StreamState state)
    {
        writer.Bind(output);
        decoder.Complete(writer);
        Sync(ref state);
    }

    private void Sync(ref StreamState state)
    {
        state.Usage = writer.Usage;
        state.Completed = writer.Completed;
        state.Failed = writer.Failed;
        state.EventsWritten = writer.EventsWritten;
    }
}
