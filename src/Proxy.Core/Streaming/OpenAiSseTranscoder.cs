using System.Buffers;
using Proxy.Providers;

namespace Proxy.Streaming;

/// <summary>
/// Passes an OpenAI-format stream through event by event, unchanged, while reading its usage chunk.
/// The gateway always asks the upstream for usage (exact accounting); when the client did not ask for it,
/// the extra usage-only chunk is dropped here so the client sees exactly what it would have seen direct.
/// </summary>
public sealed class OpenAiSseTranscoder : SseEventTranscoder
{
    private static readonly OpenAiSseTranscoder WithUsage = new(clientWantsUsage: true);
    private static readonly OpenAiSseTranscoder WithoutUsage = new(clientWantsUsage: false);

    private readonly bool clientWantsUsage;

    private OpenAiSseTranscoder(bool clientWantsUsage) => this.clientWantsUsage = clientWantsUsage;

    /// <summary>Stateless, so one instance per choice serves every stream.</summary>
    public static OpenAiSseTranscoder For(bool clientWantsUsage) => clientWantsUsage ? WithUsage : WithoutUsage;

    private static ReadOnlySpan<byte> Done => "[DONE]"u8;
    private static ReadOnlySpan<byte> UsageKey => "\"usage\""u8;
    private static ReadOnlySpan<byte> ChoicesKey => "\"choices\""u8;
    private static ReadOnlySpan<byte> ErrorKey => "\"error\""u8;
    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    protected override void OnEvent(ReadOnlySpan<byte> evt, IBufferWriter<byte> output, ref StreamState state)
    {
        if (PassesOn(evt, ref state)) Write(output, evt, ref state);
    }

    /// <summary>Returns whether the event goes on to the client.</summary>
    private bool PassesOn(ReadOnlySpan<byte> evt, ref StreamState state)
    {
        if (!SseFramer.TryGetData(evt, out var data)) return true; // comments keep idle connections alive: pass them on
        if (data.SequenceEqual(Done))
        {
            state.Completed = true;
            return true;
        }
        if (JsonScan.HasValueStartingWith(data, UsageKey, (byte)'{'))
        {
            OpenAiUsage.Read(data, ref state.Usage);
            if (!clientWantsUsage && JsonScan.HasEmptyArray(data, ChoicesKey)) return false;
        }
        else if (JsonScan.HasValueStartingWith(data, ErrorKey, (byte)'{') && JsonScan.ValueOf(data, ChoicesKey) < 0)
        {
            state.Failed = true; // the provider's own mid-stream error event: the client sees it and the stream ends
        }
        return true;
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> evt, ref StreamState state)
    {
        var dest = output.GetSpan(evt.Length + 2);
        evt.CopyTo(dest);
        EventEnd.CopyTo(dest[evt.Length..]);
        output.Advance(evt.Length + 2);
        state.EventsWritten++;
    }
}
