using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Proxy.Accounting;
using Proxy.Config;
using Proxy.Keys;
using Proxy.Metrics;
using Proxy.Pipeline;
using Proxy.Providers;
using Proxy.Providers.OpenAI;

namespace Proxy.Core.Tests.Pipeline;

/// <summary>
/// The real ProxyHandler and AdmissionGate over a DefaultHttpContext, with providers ("scripted") whose transport is a
/// delegate the test sets: it can hang, throw, or answer, so every way a request ends can be driven without sockets.
/// </summary>
internal sealed class ScriptedGateway : IDisposable
{
    public const string Key = "sk-gw-scripted-key";

    public const string Chat = """{"model":"chat","messages":[{"role":"user","content":"Hi"}]}""";

    public const string Answer =
        """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""";

    private readonly ConfigHolder _config;
    private int _calls;

    public ScriptedGateway(string server = "", string route = "provider: up")
    {
        var yaml = $$"""
            {{server}}
            providers:
              up: { type: scripted, base_url: http://up.invalid/v1, api_key: k }
              other: { type: scripted, base_url: http://other.invalid/v1, api_key: k }
            routes:
              chat:
                {{route.Replace("\n", "\n    ", StringComparison.Ordinal)}}
            keys:
              - id: test
                hash: {{KeyHash.Of(Key)}}
            """;
        var config = new ConfigLoader([new ScriptedKind(this)]).Parse(Encoding.UTF8.GetBytes(yaml), "scripted.yaml", new SecretResolver("/", _ => null));
        _config = new ConfigHolder(config, Metrics.Bind);
        Gate = new AdmissionGate(_config);
        Handler = new ProxyHandler(_config, Log, Metrics, TimeProvider.System, NullLogger<ProxyHandler>.Instance, Gate,
            new Proxy.ClientApis.OpenAiResponses.Store.InMemoryResponseStore(100, 1 << 20), Proxy.Limits.LimitsStage.InMemory(Metrics), Proxy.Budgets.BudgetsStage.InMemory(Metrics),
            Proxy.Cache.CacheStage.InMemory(Metrics));
    }

    /// <summary>The upstream: given the provider's name and the call's token. The default answers 200 at once.</summary>
    public Func<string, CancellationToken, Task<HttpResponseMessage>> Upstream { get; set; } = (_, _) => Task.FromResult(Ok());

    public GatewayMetrics Metrics { get; } = new();

    public RecordingLog Log { get; } = new();

    public AdmissionGate Gate { get; }

    public ProxyHandler Handler { get; }

    public GatewayConfig Config => _config.Current;

    /// <summary>Calls the upstream delegate received.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public static HttpResponseMessage Ok()
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Answer));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content };
    }

    public static DefaultHttpContext NewContext(string body, Stream? responseBody = null, CancellationToken aborted = default)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "POST";
        ctx.Request.Protocol = "HTTP/1.1";
        ctx.Request.Path = "/v1/chat/completions";
        ctx.Request.Headers.Authorization = "Bearer " + Key;
        ctx.Request.ContentType = "application/json";
        ctx.Request.ContentLength = bytes.Length;
        ctx.Request.Body = new MemoryStream(bytes, writable: false);
        ctx.RequestAborted = aborted;
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseBody ?? new MemoryStream()));
        return ctx;
    }

    /// <summary>One request through the handler; the context is returned for its status and headers.</summary>
    public async Task<DefaultHttpContext> SendAsync(string body = Chat, Stream? responseBody = null, CancellationToken aborted = default)
    {
        var ctx = NewContext(body, responseBody, aborted);
        await Handler.ChatCompletions(ctx);
        await ctx.Response.BodyWriter.CompleteAsync();
        return ctx;
    }

    /// <summary>The metrics as Prometheus text.</summary>
    public string Scrape()
    {
        using var buffer = new MemoryStream();
        Metrics.WriteToAsync(buffer, openMetrics: false, CancellationToken.None).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public void Dispose()
    {
        foreach (var p in _config.Current.Providers.Values) p.Adapter.Dispose();
    }

    /// <summary>Keeps every record.</summary>
    public sealed class RecordingLog : IRequestLog
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<RequestRecord> _records = new();

        public IReadOnlyCollection<RequestRecord> Records => _records;

        public bool TryWrite(RequestRecord record)
        {
            _records.Enqueue(record);
            return true;
        }
    }

    private sealed class ScriptedKind(ScriptedGateway gateway) : IProviderKind
    {
        public string Type => "scripted";
        public Uri? DefaultBaseUrl => null;
        public bool UsesNetwork => true;
        public IReadOnlyCollection<string> ExtraFields => [];

        public void Validate(ProviderSettings settings, Action<string, string> error)
        {
        }

        public ProviderAdapter CreateAdapter(ProviderSettings settings) =>
            new OpenAiAdapter(settings, new HttpMessageInvoker(new ScriptedHandler(gateway, settings.Name)));
    }

    private sealed class ScriptedHandler(ScriptedGateway gateway, string provider) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref gateway._calls);
            return gateway.Upstream(provider, cancellationToken);
        }
    }
}
