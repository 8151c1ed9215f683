using System.Diagnostics;
using Proxy.Pipeline;
using Proxy.Providers;

namespace Proxy.Accounting;

/// <summary>What a body policy keeps of request and response bodies in the log.</summary>
public enum BodyPolicy
{
    /// <summary>No bodies: ids, tokens, timings only. The default: prompts are often personal data.</summary>
    Metadata,

    /// <summary>Each body up to a byte cap.</summary>
    Capped,

    /// <summary>Whole bodies.</summary>
    Full,
}

/// <summary>
/// What happened to one request, filled in as the pipeline goes (timestamps, usage, failure class, body
/// captures) and turned into one <see cref="RequestRecord"/> at the end. One per request.
/// </summary>
public sealed class CallOutcome(long start, DateTimeOffset startedAt, int bodyCap) : IDisposable
{
    public long Start { get; } = start;
    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>Stopwatch timestamps; 0 when the step was not reached.</summary>
    public long UpstreamSent { get; set; }
    public long UpstreamHeaders { get; set; }
    public long FirstEvent { get; set; }
    public long UpstreamDone { get; set; }

    public Usage Usage;

    public string? ErrorClass { get; set; }

    /// <summary>Why the provider call failed (<see cref="Metrics.UpstreamErrors"/>); null when it did not.</summary>
    public string? UpstreamError { get; set; }

    /// <summary>The provider's HTTP status; 0 when no answer came.</summary>
    public int UpstreamStatus { get; set; }

    /// <summary>Stopwatch timestamp of the last write of stream events to the client (for the chunk-gap histogram).</summary>
    public long LastEvent { get; set; }

    public string? KeyId { get; set; }
    public Routing.Route? Route { get; set; }
    public Routing.Target? Target { get; set; }
    public bool Stream { get; set; }

    /// <summary>Bytes kept per body; 0 keeps none (metadata policy).</summary>
    public int BodyCap { get; } = bodyCap;

    /// <summary>The response as sent to the client (answer or SSE events), up to <see cref="BodyCap"/>.</summary>
    public PooledBuffer? ResponseCapture { get; private set; }

    public bool Truncated { get; set; }

    public void CaptureResponse(ReadOnlySpan<byte> bytes)
    {
        if (BodyCap == 0 || bytes.IsEmpty) return;
        ResponseCapture ??= new PooledBuffer(Math.Min(bytes.Length, BodyCap));
        int room = BodyCap - ResponseCapture.Length;
        if (bytes.Length > room)
        {
            Truncated = true;
            bytes = bytes[..Math.Max(room, 0)];
        }
        bytes.CopyTo(ResponseCapture.GetSpan(bytes.Length));
        ResponseCapture.Advance(bytes.Length);
    }

    public static long Micros(long from, long to) => from == 0 || to == 0 ? 0 : (long)Stopwatch.GetElapsedTime(from, to).TotalMicroseconds;

    public void Dispose() => ResponseCapture?.Dispose();
}
