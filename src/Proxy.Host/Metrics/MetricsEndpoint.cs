using System.Buffers;
using Microsoft.AspNetCore.Http;
using Proxy.Metrics;
using Proxy.Pipeline;

namespace Proxy.Host.Metrics;

/// <summary>
/// GET /metrics: the Prometheus text format, or OpenMetrics when the scraper's Accept asks for it. The exposition is
/// built in memory first so its length is known and a scrape never holds anything the request path needs.
/// </summary>
internal sealed class MetricsEndpoint(GatewayMetrics metrics)
{
    private int _lastSize = 16 * 1024;

    public async Task Scrape(HttpContext ctx)
    {
        RequestIds.Assign(ctx);
        bool openMetrics = ExpositionWriter.WantsOpenMetrics(ctx.Request.Headers.Accept);
        var buffer = new ArrayBufferWriter<byte>(Volatile.Read(ref _lastSize));
        metrics.WriteTo(new ExpositionWriter(buffer, openMetrics));
        Volatile.Write(ref _lastSize, buffer.WrittenCount + 1024);

        var res = ctx.Response;
        res.ContentType = openMetrics ? ExpositionWriter.OpenMetricsContentType : ExpositionWriter.TextContentType;
        res.Headers.CacheControl = "no-store";
        res.ContentLength = buffer.WrittenCount;
        await res.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
    }
}
