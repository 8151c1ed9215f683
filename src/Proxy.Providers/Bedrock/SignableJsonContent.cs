using System.Net;
using Proxy.Pipeline;
using Proxy.Providers.Bedrock.SigV4;

namespace Proxy.Providers.Bedrock;

/// <summary>A request body in pooled memory (the translated Converse request, a spliced Messages request); the signer hashes it in place, and disposal returns it.</summary>
internal sealed class SignableJsonContent : HttpContent, ISignablePayload
{
    private readonly PooledBuffer _body;

    public SignableJsonContent(PooledBuffer body)
    {
        _body = body;
        Headers.TryAddWithoutValidation("Content-Type", "application/json");
    }

    public ReadOnlyMemory<byte> Payload => _body.Memory;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(_body.Memory, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _body.Dispose();
        base.Dispose(disposing);
    }
}
