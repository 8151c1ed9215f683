using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Proxy.Pipeline;

/// <summary>Reads a request body from Kestrel's PipeReader into pooled memory, refusing it once it passes the cap.</summary>
public static class RequestBody
{
    /// <summary>Returns false when the body is larger than <paramref name="maxBytes"/> (the rest is not read).</summary>
    public static async ValueTask<bool> ReadAsync(HttpRequest request, PooledBuffer into, long maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes) return false;
        PipeReader reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (into.Length + buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.End);
                return false;
            }
            into.Write(buffer);
            reader.AdvanceTo(buffer.End);
            if (result.IsCompleted || result.IsCanceled) return true;
        }
    }
}
