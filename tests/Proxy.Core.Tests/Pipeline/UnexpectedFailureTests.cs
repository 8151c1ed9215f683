using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Proxy.Benchmarks;
using Proxy.Config;
using Proxy.Metrics;
using Proxy.Pipeline;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>
/// A failure nothing on the request path expected becomes a 500 in the OpenAI shape with x-request-id, logged once,
/// and the record and metrics carry the 500 and server_error (not the 200 the response held before).
/// </summary>
public sealed class UnexpectedFailureTests
{
    [Fact]
    public async Task ExceptionBeforeTheAnswer_500InOpenAiShape_LoggedOnce_RecordedAs500()
    {
        var config = ConfigLoaderTests.Parse($$"""
            providers:
              mock: { type: mock }
            routes:
              m: { provider: mock }
            keys:
              - id: k
                hash: {{ConfigLoaderTests.DemoHash}}
            """);
        var metrics = new GatewayMetrics();
        var holder = new ConfigHolder(config, metrics.Bind);
        var log = new InProcessGateway.CountingLog();
        var logger = new CountingLogger();
        var handler = new ProxyHandler(holder, log, metrics, TimeProvider.System, logger, new AdmissionGate(holder),
            new Proxy.ClientApis.OpenAiResponses.Store.InMemoryResponseStore(100, 1 << 20), Proxy.Limits.LimitsStage.InMemory(metrics), Proxy.Budgets.BudgetsStage.InMemory(metrics),
            Proxy.Cache.CacheStage.InMemory(metrics));
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "POST";
        ctx.Request.Headers.Authorization = "Bearer " + ConfigLoaderTests.DemoKey;
        ctx.Request.Headers[RequestIds.Header] = "req-unexpected-1";
        ctx.Request.Body = new ThrowingStream(); // a body read failing in a way nothing expects
        var answer = new MemoryStream();
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(answer));

        await handler.ChatCompletions(ctx);
        await ctx.Response.BodyWriter.CompleteAsync();

        Assert.Equal(500, ctx.Response.StatusCode);
        Assert.Equal("req-unexpected-1", ctx.Response.Headers[RequestIds.Header].ToString());
        Assert.Equal("application/json", ctx.Response.ContentType);
        using var doc = JsonDocument.Parse(answer.ToArray());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("internal_error", error.GetProperty("code").GetString());
        Assert.Contains("req-unexpected-1", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        Assert.Equal(1, logger.Errors);
        Assert.Equal(1, log.Count);
        Assert.Equal(500, log.Last!.Status);
        Assert.Equal("server_error", log.Last.ErrorClass);
        var counted = metrics.TargetFor(Labels.Other, Labels.None, Labels.None).RequestCounts().Single();
        Assert.Equal((500, "server_error", 1L), counted);
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("a bug");

        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("a bug");
    }

    private sealed class CountingLogger : ILogger<ProxyHandler>
    {
        public int Errors { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) Errors++;
        }
    }
}
