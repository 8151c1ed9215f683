using System.Buffers;

namespace Proxy.Providers;

/// <summary>What the transcoder saw in the stream so far.</summary>
public struct StreamState
{
    public Usage Usage;

    /// <summary>The upstream said the answer is complete ([DONE], message_stop...). A stream that ends without it was cut.</summary>
    public bool Completed;

    /// <summary>The upstream sent an error event; the stream is over and failed.</summary>
    public bool Failed;

    /// <summary>Client-facing events written so far.</summary>
    public int EventsWritten;
}

/// <summary>
/// Turns a provider's stream into OpenAI chat.completion.chunk SSE events, one read at a time.
/// Works on whatever the socket delivered: only whole upstream events are consumed, the rest waits for the next read.
/// </summary>
public abstract class StreamTranscoder
{
    /// <summary>
    /// Consumes every whole upstream event at the front of <paramref name="input"/> (advancing it past them)
    /// and writes the client's SSE bytes to <paramref name="output"/>.
    /// </summary>
    public abstract void Transcode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output, ref StreamState state);

    /// <summary>
    /// The upstream ended its body and every whole event has been through <see cref="Transcode"/>. For providers whose
    /// streams have no end marker (Gemini ends with the body), this is where the final events are written and
    /// <see cref="StreamState.Completed"/> is set. The default does nothing: a stream that needed a marker and ended
    /// without it stays incomplete, and the relay reports it as cut.
    /// </summary>
    public virtual void Complete(IBufferWriter<byte> output, ref StreamState state)
    {
    }
}
