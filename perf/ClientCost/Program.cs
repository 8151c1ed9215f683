using System.Diagnostics;
using System.Net;
using System.Text;
using Proxy.Config;
using Proxy.Providers;

// client-cost: CPU per upstream request of SocketsHttpHandler and of the gateway's HTTP/1.1 client (UpstreamTransport),
// in one process, in alternating rounds, against the same upstream (the mock, or any server answering POST).
//   client-cost --upstream http://127.0.0.1:9100/v1/chat/completions [--concurrency 16] [--rounds 6] [--seconds 3] [--stream]
// It prints each round and the median per client. The process's CPU includes the loops that drive the requests (the
// same for both), so the difference between the two is the clients' difference.
string upstream = "http://127.0.0.1:9100/v1/chat/completions";
int concurrency = 16, rounds = 6;
double seconds = 3;
bool stream = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--upstream" when i + 1 < args.Length: upstream = args[++i]; break;
        case "--concurrency" when i + 1 < args.Length: concurrency = int.Parse(args[++i]); break;
        case "--rounds" when i + 1 < args.Length: rounds = int.Parse(args[++i]); break;
        case "--seconds" when i + 1 < args.Length: seconds = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--stream": stream = true; break;
        default:
            Console.Error.WriteLine("usage: client-cost --upstream URL [--concurrency N] [--rounds N] [--seconds S] [--stream]");
            return 2;
    }
}
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Console.Error.WriteLine("note: DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS is not set; the gateway runs with it set to 1");

var url = new Uri(upstream);
var settings = new ProviderSettings { Name = "perf", Type = "openai", BaseUrl = url };
var clients = new (string Name, HttpMessageInvoker Invoker)[]
{
    ("sockets", new HttpMessageInvoker(new SocketsHttpHandler
    {
        UseProxy = false, AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5), PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90), ActivityHeadersPropagator = null,
    })),
    ("http1", UpstreamTransport.Create(settings)),
};
var body = Encoding.UTF8.GetBytes(stream
    ? """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}]}"""
    : """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}""");

var results = clients.ToDictionary(c => c.Name, _ => new List<(double Cpu, double Rps, double Alloc)>());
foreach (var (_, invoker) in clients) await RoundAsync(invoker, 1.0); // warm both: connections, tiering
for (int r = 0; r < rounds; r++)
{
    foreach (var (name, invoker) in r % 2 == 0 ? clients : clients.Reverse())
    {
        var (cpu, rps, alloc) = await RoundAsync(invoker, seconds);
        results[name].Add((cpu, rps, alloc));
        Console.WriteLine($"round {r + 1} {name,-8} {cpu,7:0.0} us/request  {rps,8:0} req/s  {alloc,6:0} B/request");
    }
}
foreach (var (name, list) in results)
{
    double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }
    Console.WriteLine($"median {name,-8} {Median(list.Select(x => x.Cpu)),7:0.0} us/request  {Median(list.Select(x => x.Rps)),8:0} req/s  {Median(list.Select(x => x.Alloc)),6:0} B/request");
}
return 0;

async Task<(double Cpu, double Rps, double Alloc)> RoundAsync(HttpMessageInvoker invoker, double duration)
{
    long done = 0;
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(duration));
    var process = Process.GetCurrentProcess();
    var cpu0 = process.TotalProcessorTime;
    var alloc0 = GC.GetTotalAllocatedBytes();
    var t0 = Stopwatch.GetTimestamp();
    var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        var buffer = new byte[16 * 1024];
        while (!stop.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(body),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer perf-upstream-key");
            using var response = await invoker.SendAsync(request, CancellationToken.None);
            await using var content = await response.Content.ReadAsStreamAsync();
            while (await content.ReadAsync(buffer) > 0)
            {
            }
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"upstream answered {(int)response.StatusCode}");
            Interlocked.Increment(ref done);
        }
    })).ToArray();
    await Task.WhenAll(loops);
    var elapsed = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    process.Refresh();
    var cpu = (process.TotalProcessorTime - cpu0).TotalMicroseconds;
    return (cpu / done, done / elapsed, (GC.GetTotalAllocatedBytes() - alloc0) / (double)done);
}
