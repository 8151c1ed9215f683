using System.Net;

namespace Proxy.Ingress;

/// <summary>
/// The upstream request body: the client's pooled bytes with the planned edits applied while writing,
/// with an exact Content-Length so the upstream never sees a chunked body.
/// </summary>
public sealed class SplicedContent : HttpContent
{
    private readonly ReadOnlyMemory<byte> _body;
    private readonly BodyEdits _edits;

    public SplicedContent(ReadOnlyMemory<byte> body, BodyEdits edits)
    {
        _body = body;
        _edits = edits;
        // Unvalidated add stores the string as is; the typed setter would parse and allocate a header object.
        Headers.TryAddWithoutValidation("Content-Type", "application/json");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _edits.Count == 0 ? stream.WriteAsync(_body, cancellationToken).AsTask() : _edits.WriteAsync(_body, stream, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = _edits.LengthAfter(_body.Length);
        return true;
    }
}
