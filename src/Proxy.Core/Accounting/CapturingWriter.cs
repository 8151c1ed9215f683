using System.Buffers;

namespace Proxy.Accounting;

/// <summary>Forwards to the client's writer and copies what is written into the outcome's capture (body policy).</summary>
internal sealed class CapturingWriter(IBufferWriter<byte> inner, CallOutcome outcome) : IBufferWriter<byte>
{
    private Memory<byte> _last;

    public void Advance(int count)
    {
        outcome.CaptureResponse(_last.Span[..count]);
        inner.Advance(count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _last = inner.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => (_last = inner.GetMemory(sizeHint)).Span;
}
