using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>What the fake upstream received in one request.</summary>
public sealed class RecordedRequest
{
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public required string Method { get; init; }
    public required string Path { get; init; }

    /// <summary>The query string, "?" included ("" when none).</summary>
    public string Query { get; init; } = "";
    public required Dictionary<string, string> Headers { get; init; }
    public required byte[] Body { get; init; }

    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>Completes when the gateway drops the connection while this request is still being answered.</summary>
    public Task Aborted => _aborted.Task;

    internal void MarkAborted() => _aborted.TrySetResult();
}

/// <summary>
/// A Kestrel server on 127.0.0.1 playing an OpenAI-compatible upstream: each test sets <see cref="Handler"/>,
/// and every request is recorded (path, headers, body bytes, abort) before the handler runs.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly TaskCompletionSource<RecordedRequest> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeUpstream(WebApplication app) => _app = app;

    /// <summary>Answers the current request; the default answers 500 so a test that forgot to set one fails loudly.</summary>
    public Func<HttpContext, Task> Handler { get; set; } = ctx => Upstream.Json(ctx, 500, """{"error":{"message":"no handler set","type":"server_error","param":null,"code":null}}""");

    /// <summary>e.g. http://127.0.0.1:PORT/v1, the base_url the gateway is configured with.</summary>
    public string BaseUrl { get; private set; } = "";

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>The record of the request a handler is answering (its body has been read into it already).</summary>
    public static RecordedRequest Recorded(HttpContext ctx) => (RecordedRequest)ctx.Items[typeof(RecordedRequest)]!;

    /// <summary>The first request this upstream received (bounded wait).</summary>
    public Task<RecordedRequest> FirstRequest(TimeSpan? timeout = null) => _first.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(5));

    public static async Task<FakeUpstream> StartAsync()
    {
        // No appsettings.json watcher: every watcher is an inotify instance, and those are limited per user.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        app.Run(upstream.HandleAsync);
        await app.StartAsync();
        upstream.BaseUrl = app.Urls.Single().TrimEnd('/') + "/v1";
        return upstream;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
        var recorded = new RecordedRequest
        {
            Method = ctx.Request.Method,
            Path = ctx.Request.Path.Value ?? "",
            Query = ctx.Request.QueryString.Value ?? "",
            Headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            Body = body.ToArray(),
        };
        using var registration = ctx.RequestAborted.Register(recorded.MarkAborted);
        ctx.Items[typeof(RecordedRequest)] = recorded;
        _requests.Enqueue(recorded);
        _first.TrySetResult(recorded);
        try
        {
            await Handler(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The gateway went away; that is what some tests wait for.
        }
        catch (IOException) when (ctx.RequestAborted.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
