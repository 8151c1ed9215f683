namespace Proxy.Ingress;

/// <summary>
/// At most two replacements of byte ranges in the client's body (model, stream_options), kept inline so
/// planning a splice allocates nothing. The body itself is never copied: the upstream content writes the
/// pieces between the edits.
/// </summary>
public struct BodyEdits
{
    private static readonly byte[] True = "true"u8.ToArray();
    private static readonly byte[] UsageObject = "{\"include_usage\":true}"u8.ToArray();
    private static readonly byte[] UsageField = "\"include_usage\":true,"u8.ToArray();
    private static readonly byte[] UsageFieldAlone = "\"include_usage\":true"u8.ToArray();
    private static readonly byte[] UsageProperty = ",\"stream_options\":{\"include_usage\":true}"u8.ToArray();

    public Edit First;
    public Edit Second;
    public int Count;

    public readonly record struct Edit(int Offset, int Length, byte[] Replacement);

    /// <summary>
    /// Plans the splice for one target: the upstream model name, and for streams the usage chunk the gateway
    /// needs for exact accounting (stripped again on the way back when the client did not ask for it).
    /// </summary>
    public static BodyEdits Plan(in RequestFacts facts, byte[]? upstreamModelJson, bool requestStreamUsage)
    {
        var edits = default(BodyEdits);
        if (upstreamModelJson is not null && facts.HasModel)
            edits.Add(new Edit(facts.ModelStart, facts.ModelLength, upstreamModelJson));
        if (requestStreamUsage && facts.Stream && !facts.IncludeUsage)
            edits.Add(UsageEdit(facts));
        return edits;
    }

    private static Edit UsageEdit(in RequestFacts f)
    {
        if (f.IncludeUsageLength > 0) return new Edit(f.IncludeUsageStart, f.IncludeUsageLength, True);     // include_usage: false
        if (f.StreamOptionsLength == 0) return new Edit(f.ObjectEnd, 0, UsageProperty);                     // no stream_options
        if (f.StreamOptionsHasFields) return new Edit(f.StreamOptionsStart + 1, 0, UsageField);            // { other fields }
        return f.StreamOptionsIsObject
            ? new Edit(f.StreamOptionsStart + 1, 0, UsageFieldAlone)                                          // {}
            : new Edit(f.StreamOptionsStart, f.StreamOptionsLength, UsageObject);                             // null
    }

    private void Add(Edit e)
    {
        if (Count == 0) First = e;
        else if (e.Offset >= First.Offset) Second = e;
        else
        {
            Second = First;
            First = e;
        }
        Count++;
    }

    public readonly int LengthAfter(int bodyLength)
    {
        int n = bodyLength;
        if (Count > 0) n += First.Replacement.Length - First.Length;
        if (Count > 1) n += Second.Replacement.Length - Second.Length;
        return n;
    }

    /// <summary>Writes the body with the edits applied.</summary>
    public readonly async ValueTask WriteAsync(ReadOnlyMemory<byte> body, Stream destination, CancellationToken ct)
    {
        int pos = 0;
        if (Count > 0) pos = await WriteEdit(body, pos, First, destination, ct).ConfigureAwait(false);
        if (Count > 1) pos = await WriteEdit(body, pos, Second, destination, ct).ConfigureAwait(false);
        await destination.WriteAsync(body[pos..], ct).ConfigureAwait(false);
    }

    /// <summary>Applies the edits into a span of at least <see cref="LengthAfter"/> bytes (tests, benchmarks, small bodies).</summary>
    public readonly int CopyTo(ReadOnlySpan<byte> body, Span<byte> destination)
    {
        int pos = 0, written = 0;
        for (int i = 0; i < Count; i++)
        {
            var e = i == 0 ? First : Second;
            body[pos..e.Offset].CopyTo(destination[written..]);
            written += e.Offset - pos;
            e.Replacement.CopyTo(destination[written..]);
            written += e.Replacement.Length;
            pos = e.Offset + e.Length;
        }
        body[pos..].CopyTo(destination[written..]);
        return written + body.Length - pos;
    }

    private static async ValueTask<int> WriteEdit(ReadOnlyMemory<byte> body, int pos, Edit e, Stream destination, CancellationToken ct)
    {
        await destination.WriteAsync(body[pos..e.Offset], ct).ConfigureAwait(false);
        await destination.WriteAsync(e.Replacement, ct).ConfigureAwait(false);
        return e.Offset + e.Length;
    }
}
