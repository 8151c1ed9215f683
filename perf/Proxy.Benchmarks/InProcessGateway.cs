using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Proxy.Accounting;
using Proxy.Config;
using Proxy.Keys;
using Proxy.Pipeline;
using Proxy.Metrics;
using Proxy.Providers;
using Proxy.Providers.OpenAI;

namespace Proxy.Benchmarks;

/// <summary>
/// The gateway's request pipeline with no sockets: a DefaultHttpContext in, the real ProxyHandler, an OpenAI
/// adapter whose transport answers from memory. Shared by the benchmarks and the allocation-budget test
/// (tests/Proxy.Core.Tests links this file), as Garnet's embedded benchmarks do.
/// </summary>
public sealed class InProcessGateway : IDisposable
{
    public const string Key = "sk-gw-bench-key";

    public static readonly byte[] ChatBody = Encoding.UTF8.GetBytes(
        """{"model":"bench","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one word."}],"max_tokens":16}""");

    public static readonly byte[] StreamBody = Encoding.UTF8.GetBytes(
        """{"model":"bench","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}]}""");

    public static readonly byte[] PlainAnswer = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}""");

    public static readonly byte[] StreamAnswer = Encoding.UTF8.GetBytes(string.Concat(
        Enumerable.Range(0, 8).Select(i => $"data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"t{i}\"}},\"finish_reason\":null}}],\"usage\":null}}\n\n"))
        + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":8,\"total_tokens\":17}}\n\ndata: [DONE]\n\n");

    private readonly ProxyHandler _handler;

    /// <summary>Where the pipeline's records go; the benchmarks and budget measure producing them.</summary>
    public CountingLog Log { get; } = new();
    private readonly ConfigHolder _config;

    /// <summary>Limits under the bench key (every kind, never reached), for measuring the limits stage's own cost.</summary>
    public const string AllLimits = "limits: { requests_per_minute: 1000000000, tokens_per_minute: 1000000000000, concurrent_requests: 1000000 }";

    /// <param name="keyLines">YAML added under the bench key, e.g. <see cref="AllLimits"/>.</param>
    public InProcessGateway(bool renameModel = true, string keyLines = "")
    {
        var yaml = $"""
            providers:
              up:
                type: static
                base_url: http://static.invalid/v1
                api_key: upstream-secret
            routes:
              bench:
                provider: up
                model: {(renameModel ? "gpt-4o-mini" : "bench")}
            keys:
              - id: bench
                hash: {KeyHash.Of(Key)}
                {keyLines}
            """;
        var config = new ConfigLoader([new StaticUpstreamKind()]).Parse(Encoding.UTF8.GetBytes(yaml), "bench.yaml", new SecretResolver("/", _ => null));
        // Metrics on, as in the gateway: the allocation budget covers their updates too.
        var metrics = new GatewayMetrics();
        _config = new ConfigHolder(config, metrics.Bind);
        _handler = new ProxyHandler(_config, Log, metrics, TimeProvider.System, NullLogger<ProxyHandler>.Instance, new AdmissionGate(_config),
            new Proxy.ClientApis.OpenAiResponses.Store.InMemoryResponseStore(100, 1 << 20), Proxy.Limits.LimitsStage.InMemory(metrics), Proxy.Budgets.BudgetsStage.InMemory(metrics),
            Proxy.Cache.CacheStage.InMemory(metrics));
    }

    /// <summary>One request through the pipeline; returns the status code.</summary>
    public async Task<int> SendAsync(byte[] body, Stream? responseSink = null)
    {
        var ctx = NewContext(body, responseSink);
        await _handler.ChatCompletions(ctx);
        await ctx.Response.BodyWriter.CompleteAsync();
        return ctx.Response.StatusCode;
    }

    /// <summary>The same context set-up and a trivial handler: what the harness itself costs, to subtract.</summary>
    public static async Task<int> BaselineAsync(byte[] body)
    {
        var ctx = NewContext(body, null);
        var read = await ctx.Request.BodyReader.ReadAsync();
        ctx.Request.BodyReader.AdvanceTo(read.Buffer.End);
        ctx.Response.StatusCode = 200;
        await ctx.Response.BodyWriter.WriteAsync(PlainAnswer);
        await ctx.Response.BodyWriter.CompleteAsync();
        return ctx.Response.StatusCode;
    }

    private static DefaultHttpContext NewContext(byte[] body, Stream? responseSink)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "POST";
        ctx.Request.Path = "/v1/chat/completions";
        ctx.Request.Headers.Authorization = "Bearer " + Key;
        ctx.Request.ContentType = "application/json";
        ctx.Request.ContentLength = body.Length;
        ctx.Request.Body = new MemoryStream(body, writable: false);
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseSink ?? Stream.Null));
        return ctx;
    }

    public void Dispose()
    {
        foreach (var p in _config.Current.Providers.Values) p.Adapter.Dispose();
    }

    /// <summary>Counts records and keeps the last one (tests read it); the batcher's own cost is measured separately.</summary>
    public sealed class CountingLog : IRequestLog
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public RequestRecord? Last { get; private set; }

        public bool TryWrite(RequestRecord record)
        {
            Interlocked.Increment(ref _count);
            Last = record;
            return true;
        }
    }

    /// <summary>"static": the OpenAI adapter over a transport that answers from memory.</summary>
    private sealed class StaticUpstreamKind : IProviderKind
    {
        public string Type => "static";
        public Uri? DefaultBaseUrl => null;
        public bool UsesNetwork => true;
        public IReadOnlyCollection<string> ExtraFields => [];

        public void Validate(ProviderSettings settings, Action<string, string> error)
        {
        }

        public ProviderAdapter CreateAdapter(ProviderSettings settings) => new OpenAiAdapter(settings, new HttpMessageInvoker(new StaticHandler()));
    }

    private sealed class StaticHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // Serialize the body as the real transport would, so the splice is measured too.
            await request.Content!.CopyToAsync(Stream.Null, cancellationToken);
            bool stream = request.Headers.Accept.Count > 0;
            var content = new ByteArrayContent(stream ? StreamAnswer : PlainAnswer);
            content.Headers.TryAddWithoutValidation("Content-Type", stream ? "text/event-stream" : "application/json");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }
    }
}
