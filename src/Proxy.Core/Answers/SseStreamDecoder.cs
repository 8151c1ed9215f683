using System.Buffers;
using Proxy.Streaming;

namespace Proxy.Answers;

/// <summary>
/// A decoder for an upstream that speaks SSE: frames whole events (<see cref="SseFramer"/>) and hands each to
/// <see cref="OnEvent"/> as one contiguous span. An event split across pooled segments is copied once (to the stack,
/// or a rented array past 2 KiB), so every check in OnEvent is a plain span search.
/// </summary>
public abstract class SseStreamDecoder : StreamDecoder
{
    public sealed override void Decode(ref ReadOnlySequence<byte> input, AnswerWriter writer)
    {
        scoped Span<byte> stack = stackalloc byte[2048];
        while (!writer.Completed && !writer.Failed && SseFramer.TryReadEvent(ref input, out var evt))
        {
            var span = SseFramer.Contiguous(evt, stack, out var rented);
            try
            {
                OnEvent(span, writer);
            }
            finally
            {
                if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>One whole upstream event (its lines, without the blank line that ended it).</summary>
    protected abstract void OnEvent(ReadOnlySpan<byte> evt, AnswerWriter writer);
}
