using Microsoft.AspNetCore.Http;
using Proxy.Metrics;
using Proxy.Pipeline;

namespace Proxy.Host.Metrics;

/// <summary>
/// GET /metrics: the Prometheus text format, or OpenMetrics when the scraper's Accept asks for it (prometheus-net
/// writes both). The exposition is built in memory first so its length is known and a scrape never holds anything
/// the request path needs.
/// </summary>
internal sealed class MetricsEndpoint(GatewayMetrics metrics)
{
    private int _lastSize = 16 * 1024;

    public async Task Scrape(HttpContext ctx)
    {
        RequestIds.Assign(ctx);
        bool openMetrics = Exposition.WantsOpenMetrics(ctx.Request.Headers.Accept);
        using var buffer = new MemoryStream(Volatile.Read(ref _lastSize));
        await metrics.WriteToAsync(buffer, openMetrics, ctx.RequestAborted);
        Volatile.Write(ref _lastSize, (int)buffer.Length + 1024);

        var res = ctx.Response;
        res.ContentType = openMetrics ? Exposition.OpenMetricsContentType : Exposition.TextContentType;
        res.Headers.CacheControl = "no-store";
        res.ContentLength = buffer.Length;
        await res.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ctx.RequestAborted);
    }
}
