using System.Buffers;
using Proxy.Providers;

namespace Proxy.Streaming;

/// <summary>
/// A transcoder for an upstream that speaks SSE: frames whole events (<see cref="SseFramer"/>) and hands each to
/// <see cref="OnEvent"/> as one contiguous span. An event split across pooled segments is copied once (to the stack,
/// or a rented array past 2 KiB), so every check in OnEvent is a plain span search.
/// </summary>
public abstract class SseEventTranscoder : StreamTranscoder
{
    public sealed override void Transcode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output, ref StreamState state)
    {
        scoped Span<byte> stack = stackalloc byte[2048];
        while (SseFramer.TryReadEvent(ref input, out var evt))
        {
            byte[]? rented = null;
            scoped ReadOnlySpan<byte> span = evt.FirstSpan;
            if (!evt.IsSingleSegment)
            {
                int length = (int)evt.Length;
                var copy = length <= stack.Length ? stack[..length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
                evt.CopyTo(copy);
                span = copy;
            }
            try
            {
                OnEvent(span, output, ref state);
            }
            finally
            {
                if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            }
            if (state.Completed || state.Failed) return;
        }
    }

    /// <summary>One whole upstream event (its lines, without the blank line that ended it).</summary>
    protected abstract void OnEvent(ReadOnlySpan<byte> evt, IBufferWriter<byte> output, ref StreamState state);
}
