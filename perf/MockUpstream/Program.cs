using MockUpstream;
using MockUpstream.OpenAi;

// mock-upstream: a fake LLM provider for load tests of the gateway. See perf/README.md.
MockOptions options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(MockOptions.Usage);
        return 0;
    }
    options = MockOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"mock-upstream: {e.Message}\n\n{MockOptions.Usage}");
    return 2;
}

// Our own flags are parsed above; the host gets no args so it cannot misread them as configuration.
var builder = WebApplication.CreateSlimBuilder([]);
builder.WebHost.UseUrls(options.Urls);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxConcurrentConnections = null;
    k.Limits.MinResponseDataRate = null; // slow-drip streams (--chunk-interval-ms) are the point, not an attack
});
// Per-request Information logs would cost more than the handlers; keep only problems.
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var app = builder.Build();

// One line per wire format; each precomputes its bytes now, before the first request.
IMockFormat[] formats = [new OpenAiFormat(options)];
foreach (IMockFormat format in formats) format.Map(app);

app.Lifetime.ApplicationStarted.Register(() =>
    Console.WriteLine($"mock-upstream listening on {string.Join(' ', app.Urls)} " +
        $"(latency {options.LatencyMs} ms, ttft {options.TtftMs} ms, {options.Chunks} chunks every {options.ChunkIntervalMs} ms)"));
await app.RunAsync();
return 0;
