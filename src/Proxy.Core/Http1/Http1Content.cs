using System.Net;

namespace Proxy.Http1;

/// <summary>An answer's body as HttpContent: its headers from the response head, its bytes read from the connection as asked.</summary>
internal sealed class Http1Content : HttpContent
{
    public Http1BodyStream? Body { get; set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        Body is null ? Task.CompletedTask : Body.CopyToAsync(stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => Body ?? Stream.Null;

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(CreateContentReadStream(CancellationToken.None));

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => Task.FromResult(CreateContentReadStream(cancellationToken));

    protected override void Dispose(bool disposing)
    {
        if (disposing) Body?.Dispose();
        base.Dispose(disposing);
    }
}
