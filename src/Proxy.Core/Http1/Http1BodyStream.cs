using System.Runtime.CompilerServices;

namespace Proxy.Http1;

/// <summary>
/// The read side of one answer's body. Its last read hands the connection back to the pool; disposing it before the
/// end closes the connection (what is left unread cannot be skipped safely).
/// </summary>
internal sealed class Http1BodyStream(Http1Connection? connection) : Stream
{
    private Http1Connection? _connection = connection;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var connection = _connection;
        if (connection is null) return new ValueTask<int>(0);
        ValueTask<int> read;
        try
        {
            read = connection.ReadBodyAsync(buffer, cancellationToken);
        }
        catch
        {
            Abandon(connection);
            throw;
        }
        if (!read.IsCompletedSuccessfully) return AwaitReadAsync(connection, read);
        var n = read.Result;
        if (connection.BodyComplete) Finish(connection);
        return new ValueTask<int>(n);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitReadAsync(Http1Connection connection, ValueTask<int> read)
    {
        int n;
        try
        {
            n = await read.ConfigureAwait(false);
        }
        catch
        {
            Abandon(connection);
            throw;
        }
        if (connection.BodyComplete) Finish(connection);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private void Finish(Http1Connection connection)
    {
        if (Interlocked.CompareExchange(ref _connection, null, connection) == connection) connection.Pool.Return(connection);
    }

    private void Abandon(Http1Connection connection)
    {
        if (Interlocked.CompareExchange(ref _connection, null, connection) == connection) connection.Pool.Discard(connection);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _connection is { } connection) Abandon(connection);
        base.Dispose(disposing);
    }

    public override void Flush()
    {
    }

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
