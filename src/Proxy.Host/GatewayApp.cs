using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Config;
using Proxy.Errors;
using Proxy.Host.Config;
using Proxy.Host.Endpoints;
using Proxy.Host.Metrics;
using Proxy.Host.Runtime;
using Proxy.Host.Tracing;
using Proxy.Metrics;
using Proxy.Logging;
using Proxy.Accounting;
using Proxy.Host.Logging;
using Proxy.Pipeline;
using Proxy.Providers;
using Proxy.Providers.Bedrock;
using Proxy.Providers.Gemini;
using Proxy.Providers.Mock;
using Proxy.Providers.Anthropic;
using Proxy.Providers.AzureOpenAI;
using Proxy.Providers.OpenAI;
using Proxy.Providers.Vertex;

namespace Proxy.Host;

/// <summary>Builds the gateway: the same code path for the executable and for tests that host it in process.</summary>
public static class GatewayApp
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Every provider type the gateway knows; a new provider is one folder and one line here.</summary>
    public static IReadOnlyList<IProviderKind> ProviderKinds { get; } =
        [new OpenAiKind(), new MockKind(), new AnthropicKind(), new AzureOpenAiKind(), new BedrockKind(), new GeminiKind(), new VertexKind()];

    /// <summary>Loads and validates the config (throwing <see cref="ConfigException"/> with every mistake), then builds the app.</summary>
    /// <param name="ownsProcess">
    /// True for the executable: process-wide settings (inline socket completions, the open-file limit raised to the
    /// hard limit) are applied. Hosts that share their process (tests) leave them alone.
    /// </param>
    public static WebApplication Build(string[] args, string configPath, bool ownsProcess = false)
    {
        // With control_plane: in the file, providers, routes, teams and keys come from Postgres (or, while it is down at
        // start, from the last snapshot on disk), composed with the file and validated by the file's rules.
        var controlPlane = ControlPlane.ControlPlaneRuntime.Open(configPath, Console.Error);
        var loader = new ConfigLoader(ProviderKinds, data: controlPlane.Data);
        var initial = loader.Load(configPath);
        // Read once by the runtime when the process makes its first socket, so it must be set before any is.
        if (ownsProcess && initial.Server.InlineIo && Environment.GetEnvironmentVariable(InlineCompletions) is null)
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        // Before the first connection: a soft limit of 1,024 with a hard one far above would cap the gateway for nothing.
        var raised = ownsProcess ? DescriptorLimit.Raise() : null;

        var builder = WebApplication.CreateSlimBuilder(args);
        // --urls and ASPNETCORE_URLS (both land in "urls") win over the file, as operators expect.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && initial.Server.Urls is { } urls) builder.WebHost.UseUrls(urls);
        // The metrics and admin ports join whatever the client port is (flag, environment, file or Kestrel's default).
        var extraPorts = new List<string>();
        if (initial.Metrics is { Enabled: true, Listen: { } metricsUrl }) extraPorts.Add(metricsUrl.GetLeftPart(UriPartial.Authority));
        if (controlPlane.Settings?.AdminListen is { } adminUrl) extraPorts.Add(adminUrl.GetLeftPart(UriPartial.Authority));
        if (extraPorts.Count > 0)
        {
            var main = builder.Configuration["urls"] is { Length: > 0 } u ? u : initial.Server.Urls ?? "http://localhost:5000";
            builder.WebHost.UseUrls(string.Join(';', [main, .. extraPorts]));
        }
        if (initial.Server.InlineIo)
        {
            // server.inline_io (the default): request handling continues on the thread that completed the socket
            // read instead of hopping to another pool thread. Nothing on the request path blocks (perf/README.md).
            builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        }
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            // The gateway enforces its own, reloadable body cap and answers it in the OpenAI error shape.
            o.Limits.MaxRequestBodySize = null;
        });
        // Per-request framework logs cost microseconds on every call; the gateway logs what matters itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        // Room for in-flight requests to finish and then for the request log's drain (logs.shutdown_deadline);
        // the Kubernetes termination grace period must be longer (deploy/ uses 60 s with a 5 s preStop pause).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30) + initial.Logs.ShutdownDeadline);

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        var metrics = new GatewayMetrics();
        services.AddSingleton(metrics);
        var holder = new ConfigHolder(initial, metrics.Bind);
        services.AddSingleton(holder);
        // With a control plane, usage rollups per day, key, team and route from the same records the log gets.
        var usage = controlPlane.Enabled
            ? new Proxy.ControlPlane.Usage.UsageRollup(controlPlane.Store!.DataSource, id => holder.Current.Keys.FindById(id)?.Team?.Name)
            : null;
        services.AddSingleton<MetricsEndpoint>();
        services.AddSingleton(loader);
        services.AddSingleton<ConfigWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigWatcher>());
        services.AddSingleton(controlPlane);
        if (controlPlane.Enabled)
        {
            services.AddHostedService(sp => new ControlPlane.ControlPlaneService(controlPlane, sp.GetRequiredService<ConfigWatcher>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Proxy.ControlPlane")));
            services.AddSingleton<Endpoints.Admin.AdminApi>();
            services.AddHostedService(sp => new ControlPlane.UsageRollupService(new Proxy.ControlPlane.Usage.UsageRollupWriter(usage!,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Proxy.ControlPlane.Usage"))));
        }
        services.AddSingleton(sp => RequestLogSetup.Create(initial.Logs, sp.GetRequiredService<TimeProvider>(), usage is null ? null : usage.Add));
        services.AddHostedService<RequestLogLifetime>();
        services.AddHostedService<Runtime.IdleMemoryTrim>();
        services.AddSingleton<AdmissionGate>();
        // Responses the gateway translated, for GET /v1/responses/{id} and previous_response_id: in memory, bounded (the
        // embedded default; a shared store comes with Redis).
        services.AddSingleton<Proxy.ClientApis.OpenAiResponses.Store.IResponseStore>(sp =>
            new Proxy.ClientApis.OpenAiResponses.Store.InMemoryResponseStore(maxCount: 10_000, maxBytes: 64L << 20, sp.GetRequiredService<TimeProvider>()));
        // Limits and budgets: the store is chosen at start (limits.store); the limits and budgets themselves reload with
        // the config. With Redis both stores share one connection, made on first use and closed with the app.
        services.AddSingleton(sp => new Limits.RedisStores(initial.Redis, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => Limits.LimitsSetup.Create(initial, sp.GetRequiredService<Limits.RedisStores>(), sp.GetRequiredService<TimeProvider>(),
            metrics, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => Limits.BudgetsSetup.Create(initial, sp.GetRequiredService<Limits.RedisStores>(), sp.GetRequiredService<TimeProvider>(),
            metrics, sp.GetRequiredService<ILoggerFactory>()));
        // The response cache: the store is chosen at start (cache.store); which routes cache reloads with the config.
        services.AddSingleton(sp => Cache.CacheSetup.Create(initial, sp.GetRequiredService<Limits.RedisStores>(), sp.GetRequiredService<TimeProvider>(),
            metrics, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ProxyHandler>();
        // Kestrel's socket transport, with accepts that back off when out of descriptors instead of spinning.
        services.RemoveAll<IConnectionListenerFactory>();
        services.AddSingleton<GuardedSocketTransport>();
        services.AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<GuardedSocketTransport>());
        services.AddSingleton<ModelsEndpoint>();
        services.AddSingleton<UsageEndpoint>();
        services.AddSingleton<HealthEndpoints>();

        var tracerProvider = TracingSetup.Create(initial.Tracing, Environment.MachineName);

        var app = builder.Build();
        var gate = app.Services.GetRequiredService<AdmissionGate>();
        metrics.AddSource(gate);
        // A first estimate now; measured again once listening (Kestrel's sockets and libraries open by then), and logged.
        DescriptorBudget.Measure(gate);
        app.Lifetime.ApplicationStarted.Register(() => DescriptorBudget.Report(gate, app.Services.GetRequiredService<ConfigHolder>().Current.Server,
            raised, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Proxy.Host.Descriptors")));
        metrics.AddSource(new ProcessMetrics());
        if (app.Services.GetRequiredService<IRequestLog>() is LogBatcher batcher) metrics.AddSource(new RequestLogMetrics(batcher));
        MapEndpoints(app, initial.Metrics);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            // Flushes the spans still queued, then stops listening (the ActivitySource is process-wide).
            tracerProvider?.Dispose();
            foreach (var p in app.Services.GetRequiredService<ConfigHolder>().Current.Providers.Values) p.Adapter.Dispose();
        });
        return app;
    }

    private static void MapEndpoints(WebApplication app, MetricsSettings metricsSettings)
    {
        if (metricsSettings is { Enabled: true, Listen: { } listen })
        {
            // The metrics port serves only the metrics path, and the metrics path only there. By local port, not Host
            // header: a client cannot reach the metrics through the API port by naming the other one.
            int port = listen.Port;
            var path = metricsSettings.Path;
            var scrape = app.Services.GetRequiredService<MetricsEndpoint>();
            app.Use((ctx, next) =>
            {
                bool onMetricsPort = ctx.Connection.LocalPort == port;
                bool isMetricsPath = ctx.Request.Path.Equals(path, StringComparison.Ordinal);
                if (onMetricsPort && isMetricsPath && HttpMethods.IsGet(ctx.Request.Method)) return scrape.Scrape(ctx);
                if (onMetricsPort || isMetricsPath) return NotFound(ctx);
                return next(ctx);
            });
        }
        else if (metricsSettings.Enabled)
        {
            app.MapGet(metricsSettings.Path, app.Services.GetRequiredService<MetricsEndpoint>().Scrape);
        }

        var proxy = app.Services.GetRequiredService<ProxyHandler>();
        var models = app.Services.GetRequiredService<ModelsEndpoint>();
        var health = app.Services.GetRequiredService<HealthEndpoints>();
        var usage = app.Services.GetRequiredService<UsageEndpoint>();

        app.MapPost("/v1/chat/completions", proxy.ChatCompletions);
        app.MapPost("/v1/embeddings", proxy.Embeddings);
        app.MapPost("/v1/messages", proxy.Messages);
        app.MapPost("/v1/messages/count_tokens", proxy.CountTokens);
        app.MapPost("/v1/responses", proxy.Responses);
        app.MapGet("/v1/responses/{id}", proxy.GetResponse);
        app.MapDelete("/v1/responses/{id}", proxy.DeleteResponse);
        app.MapGet("/v1/responses/{id}/input_items", proxy.GetResponseInputItems);
        app.MapGet("/v1/models", models.List);
        app.MapGet("/v1/models/{**model}", models.Get);
        app.MapGet("/v1/usage", usage.Get);
        app.MapGet("/v1/health", health.Health);
        app.MapGet("/v1/ready", health.Ready);
        var controlPlane = app.Services.GetRequiredService<ControlPlane.ControlPlaneRuntime>();
        if (controlPlane is { Enabled: true, Settings.AdminApi: true })
        {
            var admin = app.Services.GetRequiredService<Endpoints.Admin.AdminApi>();
            if (controlPlane.Settings.AdminListen is { } adminListen)
            {
                // The admin API on a port of its own: only there, and nothing else there (by local port, not Host header).
                int adminPort = adminListen.Port;
                app.Use((ctx, next) =>
                {
                    bool onAdminPort = ctx.Connection.LocalPort == adminPort;
                    bool adminPath = ctx.Request.Path.StartsWithSegments("/admin", StringComparison.Ordinal);
                    return onAdminPort == adminPath ? next(ctx) : NotFound(ctx);
                });
            }
            Endpoints.Admin.AdminApi.Map(app, admin);
        }
        app.MapFallback(NotFound);
    }

    private static Task NotFound(HttpContext ctx)
    {
        RequestIds.Assign(ctx);
        return ErrorResponses.WriteAsync(ctx, 404,
            $"Unknown path '{ctx.Request.Method} {ctx.Request.Path}'. This gateway serves POST /v1/chat/completions, POST /v1/embeddings, POST /v1/messages (and /v1/messages/count_tokens), POST /v1/responses (and GET/DELETE /v1/responses/{{id}}), GET /v1/models and GET /v1/usage.",
            OpenAiError.NotFound, code: "unknown_path");
    }
}
