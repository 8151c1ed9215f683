using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Proxy.Accounting;
using Proxy.Config;
using Proxy.Logging;
using Proxy.Pipeline;

namespace Proxy.Host.Endpoints;

/// <summary>
/// Liveness (/v1/health): the process answers; nothing else is checked, so a slow dependency never gets a
/// healthy replica killed. Readiness (/v1/ready): config loaded and not shutting down; 503 from the moment
/// SIGTERM arrives so the load balancer drains this replica before it stops.
/// </summary>
internal sealed class HealthEndpoints(ConfigHolder config, IRequestLog log, IHostApplicationLifetime lifetime, ControlPlane.ControlPlaneRuntime controlPlane)
{
    private static readonly byte[] Healthy = "{\"status\":\"ok\"}"u8.ToArray();

    public Task Health(HttpContext ctx)
    {
        RequestIds.Assign(ctx);
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-store";
        return ctx.Response.BodyWriter.WriteAsync(Healthy).AsTask();
    }

    public async Task Ready(HttpContext ctx)
    {
        var snapshot = config.Current;
        bool stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        RequestIds.Assign(ctx);
        ctx.Response.StatusCode = stopping ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-store";
        await using var w = new Utf8JsonWriter(ctx.Response.BodyWriter, Proxy.Errors.JsonOutput.Options);
        w.WriteStartObject();
        w.WriteString("status"u8, stopping ? "stopping"u8 : "ready"u8);
        w.WriteStartObject("checks"u8);
        w.WriteStartObject("config"u8);
        w.WriteString("status"u8, "ok"u8);
        w.WriteString("version"u8, snapshot.ContentHash.AsSpan(0, 12));
        w.WriteNumber("routes"u8, snapshot.Routes.Count);
        w.WriteNumber("keys"u8, snapshot.Keys.Count);
        w.WriteEndObject();
        if (controlPlane is { Enabled: true, Data: { } data })
        {
            // Like the request log, never a reason to be unready: every replica shares the database, and each serves its
            // last snapshot while it is away; degraded tells operators the replicas may drift until it is back.
            var problem = controlPlane.Sync?.Problem ?? (controlPlane.Sync is null ? controlPlane.StartedFromSnapshot : null);
            w.WriteStartObject("control_plane"u8);
            w.WriteString("status"u8, problem is null ? "ok"u8 : "degraded"u8);
            w.WriteNumber("served_version"u8, data.Version);
            if (problem is not null) w.WriteString("problem"u8, problem);
            if (controlPlane.Sync is { } sync && sync.LastSync != default) w.WriteString("last_sync"u8, sync.LastSync.ToString("O"));
            w.WriteEndObject();
        }
        if (log is LogBatcher batcher)
        {
            // The request log never makes the replica unready, not even stalled: the blob store is shared by every
            // replica, so a 503 here would take them all out of the load balancer together and turn a logging
            // outage into a full one, while requests are still served and their records are safe on local disk
            // until the spool fills (which the metrics and alerts show). The state is here for operators.
            var stalled = batcher.StalledFor;
            w.WriteStartObject("request_log"u8);
            w.WriteString("status"u8, stalled > TimeSpan.Zero ? "stalled"u8 : batcher.Retrying ? "spooling"u8 : "ok"u8);
            w.WriteString("sink"u8, batcher.SinkName);
            w.WriteNumber("stalled_seconds"u8, Math.Round(stalled.TotalSeconds, 3));
            w.WriteNumber("oldest_pending_seconds"u8, Math.Round(batcher.OldestPendingAge.TotalSeconds, 3));
            w.WriteNumber("upload_timeout_seconds"u8, batcher.UploadTimeout.TotalSeconds);
            w.WriteNumber("records_accepted"u8, batcher.Enqueued);
            w.WriteNumber("records_dropped"u8, batcher.Dropped);
            w.WriteNumber("batches_uploaded"u8, batcher.BatchesUploaded);
            w.WriteNumber("upload_failures"u8, batcher.UploadFailures);
            w.WriteNumber("spool_batches"u8, batcher.SpoolPendingBatches);
            w.WriteNumber("spool_bytes"u8, batcher.SpoolPendingBytes);
            w.WriteNumber("spool_batches_dropped"u8, batcher.SpoolDroppedBatches);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
