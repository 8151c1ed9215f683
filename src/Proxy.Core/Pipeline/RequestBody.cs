using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Proxy.Pipeline;

/// <summary>Reads a request body from Kestrel's PipeReader into pooled memory, refusing it once it passes the cap.</summary>
public static class RequestBody
{
    public const string Json = "application/json";

    /// <summary>
    /// True for application/json in any case, with any parameters (<c>; charset=utf-8</c>), and for no Content-Type at
    /// all: many clients omit it, and the body is checked as JSON anyway. Anything else is refused with 415, as the
    /// providers do. No allocation: the header's string is Kestrel's.
    /// </summary>
    public static bool IsJsonOrAbsent(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return true;
        var type = contentType.AsSpan();
        int parameters = type.IndexOf(';');
        if (parameters >= 0) type = type[..parameters];
        return type.Trim().Equals(Json, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether a failed body read means the client went away (it reset the connection, or Kestrel aborted the request)
    /// rather than sent a malformed body. Kestrel cancels RequestAborted from a thread-pool item, so the token can lag
    /// the exception that reports the same thing.
    /// </summary>
    public static bool ClientGone(Exception e, CancellationToken requestAborted) =>
        requestAborted.IsCancellationRequested || e is ConnectionResetException or OperationCanceledException;

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
