namespace LoadGen;

/// <summary>
/// Watches a response body as server-sent events, timing what a chat user sees: the first event that carries
/// text (time to first token) and the gaps between text-carrying events. It does not parse JSON: an event
/// "carries text" when its data holds a non-empty "content" (OpenAI) or "text" (Anthropic, Gemini) string,
/// which is cheap and right for every provider format the gateway speaks. One instance per worker, reused.
/// </summary>
internal sealed class SseScanner
{
    private byte[] _partial = new byte[4096]; // a line split across two reads
    private int _partialLength;
    private Histogram? _gaps;

    public long FirstTokenTicks { get; private set; }
    public long LastTokenTicks { get; private set; }
    public int TextEvents { get; private set; }
    /// <summary>True once "data: [DONE]" arrived: a stream without it was cut short.</summary>
    public bool Done { get; private set; }

    /// <summary>Starts a new response; gaps are recorded into <paramref name="gaps"/> (null during warmup).</summary>
    public void Reset(Histogram? gaps)
    {
        _gaps = gaps;
        _partialLength = 0;
        FirstTokenTicks = LastTokenTicks = 0;
        TextEvents = 0;
        Done = false;
    }

    /// <summary>Bytes of the body as they arrive; <paramref name="ticks"/> is when this read completed.</summary>
    public void OnData(ReadOnlySpan<byte> data, long ticks)
    {
        while (!data.IsEmpty)
        {
            int newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Keep(data);
                return;
            }
            if (_partialLength > 0)
            {
                Keep(data[..newline]);
                OnLine(_partial.AsSpan(0, _partialLength), ticks);
                _partialLength = 0;
            }
            else OnLine(data[..newline], ticks);
            data = data[(newline + 1)..];
        }
    }

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        if (_partialLength + bytes.Length > _partial.Length)
            Array.Resize(ref _partial, Math.Max(_partial.Length * 2, _partialLength + bytes.Length));
        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength += bytes.Length;
    }

    private void OnLine(ReadOnlySpan<byte> line, long ticks)
    {
        if (!line.StartsWith("data:"u8)) return; // event:, id:, comments and the blank separator lines
        ReadOnlySpan<byte> value = line[5..].Trim((byte)' ').TrimEnd((byte)'\r');
        if (value.SequenceEqual("[DONE]"u8))
        {
            Done = true;
            return;
        }
        if (!HasNonEmptyString(value, "\"content\":\""u8) && !HasNonEmptyString(value, "\"text\":\""u8)) return;
        if (TextEvents++ == 0) FirstTokenTicks = ticks;
        else _gaps?.RecordTicks(ticks - LastTokenTicks);
        LastTokenTicks = ticks;
    }

    private static bool HasNonEmptyString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        int i = json.IndexOf(key);
        return i >= 0 && i + key.Length < json.Length && json[i + key.Length] != (byte)'"';
    }
}
