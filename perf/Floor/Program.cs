using System.Buffers;
using System.Net;

// floor: a bare Kestrel + SocketsHttpHandler forwarder, the ".NET floor" of perf/compare.sh (perf/README.md).
// It does what any .NET proxy must (accept, forward the body, set the upstream key, copy the answer back, flushing
// each read so streams pass as they arrive) and nothing the gateway adds: no auth, peek, routing, log or metrics.
//   floor --urls http://127.0.0.1:9400 --upstream http://127.0.0.1:9100 [--upstream-key K] [--no-inline-io]
string urls = "http://127.0.0.1:9400", upstream = "http://127.0.0.1:9100", upstreamKey = "perf-upstream-key";
bool inlineIo = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--urls" when i + 1 < args.Length: urls = args[++i]; break;
        case "--upstream" when i + 1 < args.Length: upstream = args[++i].TrimEnd('/'); break;
        case "--upstream-key" when i + 1 < args.Length: upstreamKey = args[++i]; break;
        case "--no-inline-io": inlineIo = false; break;
        default:
            Console.Error.WriteLine($"floor: unknown or incomplete argument '{args[i]}'\nusage: floor --urls URL --upstream URL [--upstream-key K] [--no-inline-io]");
            return 2;
    }
}

// The gateway's default (server.inline_io: true) sets both; the floor matches it so the comparison is like for like.
// The runtime reads this variable when the process makes its first socket, so it is set before the host starts.
if (inlineIo && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

// Our own flags are parsed above; the host gets no args so it cannot misread them as configuration.
var builder = WebApplication.CreateSlimBuilder([]);
builder.WebHost.UseUrls(urls);
if (inlineIo) builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxRequestBodySize = null;
});
// Per-request framework logs would cost more than the forwarding; keep only problems.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

// The gateway's upstream client settings (no proxy, redirects, cookies or decompression; unbounded pool).
var http = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    MaxConnectionsPerServer = int.MaxValue,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
});

// A plain RequestDelegate: no parameter binding, so no reflection and no generated code for AOT.
app.MapPost("/{**path}", async ctx =>
{
    using var request = new HttpRequestMessage(HttpMethod.Post, upstream + ctx.Request.Path.Value) { Version = HttpVersion.Version11 };
    request.Content = new StreamContent(ctx.Request.Body);
    if (ctx.Request.ContentType is { } contentType) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
    if (ctx.Request.ContentLength is long length) request.Content.Headers.ContentLength = length;
    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + upstreamKey);

    // HttpMessageInvoker returns at the response headers; the body is read below as it arrives.
    using var response = await http.SendAsync(request, ctx.RequestAborted);
    ctx.Response.StatusCode = (int)response.StatusCode;
    ctx.Response.ContentType = response.Content.Headers.ContentType?.ToString();
    if (response.Content.Headers.ContentLength is long answerLength) ctx.Response.ContentLength = answerLength;
    await using var body = await response.Content.ReadAsStreamAsync(ctx.RequestAborted);
    var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        int read;
        while ((read = await body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
        {
            await ctx.Response.Body.WriteAsync(buffer.AsMemory(0, read), ctx.RequestAborted);
            // Each SSE event is its own read upstream; flushing passes it on at once, as the gateway does.
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        }
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
});

await app.RunAsync();
return 0;
