using System.Buffers;

namespace Proxy.Answers;

/// <summary>
/// A provider's stream, read into neutral events (<see cref="AnswerWriter"/>) one socket read at a time: only whole
/// upstream events are consumed, the rest waits for the next read. One instance per stream (it may keep state).
/// </summary>
public abstract class StreamDecoder
{
    /// <summary>Consumes every whole upstream event at the front of <paramref name="input"/>, advancing past them.</summary>
    public abstract void Decode(ref ReadOnlySequence<byte> input, AnswerWriter writer);

    /// <summary>
    /// The upstream ended its body and every whole event has been decoded. Providers whose streams have no end marker
    /// (Gemini ends with the body) finish the answer here; by default nothing happens, and an answer that needed a
    /// marker stays incomplete, which the relay reports as a cut stream.
    /// </summary>
    public virtual void Complete(AnswerWriter writer)
    {
    }
}
