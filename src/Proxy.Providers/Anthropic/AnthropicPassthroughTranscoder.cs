using System.Buffers;
using System.Text.Json;
using Proxy.Streaming;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// An Anthropic Messages stream passed to a client that speaks Anthropic's API, event by event and byte for byte (its
/// event: and data: lines and the blank line after them exactly as received, CRLF or LF), while the gateway reads what
/// it needs on the way: the usage of message_start, then message_delta's cumulative counts (normalized,
/// <see cref="AnthropicTokens"/>), the end (message_stop) and a failure (an error event, which the client sees as
/// Anthropic sent it). Only an event's type is read from the others, so a text delta costs a few JSON tokens.
/// <para>
/// Not an <see cref="SseEventTranscoder"/>: that hands over an event without the line ends that closed it, and writing
/// "\n\n" instead would change a CRLF upstream's bytes. Here the bytes each whole event took off the input are copied.
/// </para>
/// One instance per stream.
/// </summary>
public sealed class AnthropicPassthroughTranscoder : StreamTranscoder
{
    private AnthropicTokens _tokens;

    public override void Transcode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output, ref StreamState state)
    {
        scoped Span<byte> stack = stackalloc byte[2048];
        while (!state.Completed && !state.Failed)
        {
            var before = input;
            if (!SseFramer.TryReadEvent(ref input, out var evt)) return;
            Copy(before.Slice(0, input.Start), output);
            state.EventsWritten++;

            var span = SseFramer.Contiguous(evt, stack, out var rented);
            try
            {
                Read(span, ref state);
            }
            finally
            {
                if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private void Read(ReadOnlySpan<byte> evt, ref StreamState state)
    {
        if (!SseFramer.TryGetData(evt, out var data)) return;
        switch (AnthropicStreamEvent.PeekType(data))
        {
            case EventType.MessageStart or EventType.MessageDelta:
                ReadUsage(data, ref state);
                break;
            case EventType.MessageStop:
                state.Completed = true;
                break;
            case EventType.Error:
                state.Failed = true;
                break;
        }
    }

    private void ReadUsage(ReadOnlySpan<byte> data, ref StreamState state)
    {
        try
        {
            AnthropicStreamEvent.Parse(data, ref _tokens);
        }
        catch (JsonException)
        {
            return; // PeekType read the type, so only a later part is broken; the client gets it as it came
        }
        _tokens.ApplyTo(ref state.Usage);
    }

    private static void Copy(in ReadOnlySequence<byte> bytes, IBufferWriter<byte> output)
    {
        int length = (int)bytes.Length;
        bytes.CopyTo(output.GetSpan(length));
        output.Advance(length);
    }
}
