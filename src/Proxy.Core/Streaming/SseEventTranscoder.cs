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
            var span = SseFramer.Contiguous(evt, stack, out var rented);
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
