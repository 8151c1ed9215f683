using System.Text.Json;
using LoadGen;

// loadgen: HTTP/1.1 load generator for the gateway. See perf/README.md.

// Run socket continuations on the epoll thread instead of hopping to the thread pool: the request loop never
// blocks, and on a 2-core box this keeps loadgen on about one core, leaving the other to the server it measures
// (measured: 38k -> 48k req/s against mock-upstream). Read once, when the first socket is made; an explicit
// setting in the environment wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

Options options;
RequestTemplate request;
try
{
    if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(Options.Usage);
        return args.Length == 0 ? 2 : 0;
    }
    options = Options.Parse(args);
    request = new RequestTemplate(options);
}
catch (Exception e) when (e is ArgumentException or IOException or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine($"loadgen: {e.Message}");
    return 2;
}

var run = new Run(options, request);
// First Ctrl+C ends the run early and still reports; a second one kills the process.
Console.CancelKeyPress += (_, e) =>
{
    if (run.Stopping) return;
    e.Cancel = true;
    run.Stop();
};

RunResult result = await Runner.RunAsync(run);
Report report = Reports.Build(options, request, result);
Console.Write(options.Summary ? Reports.SummaryLine(report) + "\n" : Reports.Table(report));
if (options.JsonPath is not null)
    await File.WriteAllTextAsync(options.JsonPath, JsonSerializer.Serialize(report, ReportJson.Default.Report));
return report.Ok > 0 ? 0 : 1; // a run where nothing succeeded is a failure for the calling script
