using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Proxy.Config;
using Proxy.Tracing;

namespace Proxy.Host.Tracing;

/// <summary>
/// The OpenTelemetry SDK, listening to the gateway's ActivitySource and exporting over OTLP, when tracing.enabled.
/// Spans are batched and exported in the background; a collector that is down costs dropped spans, never requests.
/// </summary>
internal static class TracingSetup
{
    public static TracerProvider? Create(TracingSettings settings, string instance)
    {
        if (!settings.Enabled) return null;
        return Sdk.CreateTracerProviderBuilder()
            .AddSource(GatewayTracing.SourceName)
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(settings.ServiceName, serviceInstanceId: instance))
            // Parent-based: a client's sampled traceparent is always recorded, its unsampled one never; new traces by ratio.
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(settings.SampleRatio)))
            .AddOtlpExporter(o =>
            {
                o.Protocol = settings.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                if (settings.Endpoint is { } endpoint)
                {
                    // For http/protobuf the SDK appends /v1/traces only to an endpoint taken from the environment.
                    o.Endpoint = o.Protocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath.TrimEnd('/').Length == 0
                        ? new Uri(endpoint, "/v1/traces") : endpoint;
                }
                if (settings.Headers.Count > 0) o.Headers = string.Join(",", settings.Headers.Select(h => $"{h.Key}={h.Value}"));
            })
            .Build();
    }
}
