using Microsoft.AspNetCore.Http;

namespace Proxy.Host.Endpoints.Admin;

/// <summary>GET /admin/v1/openapi.json: the admin API's OpenAPI 3.1 document (embedded; no key needed to read it).</summary>
internal static class AdminOpenApi
{
    private static readonly Lazy<byte[]> Document = new(() =>
    {
        using var stream = typeof(AdminOpenApi).Assembly.GetManifestResourceStream("Proxy.Host.Admin.openapi.json")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static Task Serve(HttpContext ctx)
    {
        ctx.Response.ContentType = "application/json";
        return ctx.Response.BodyWriter.WriteAsync(Document.Value).AsTask();
    }
}
