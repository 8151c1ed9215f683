using System.Globalization;

namespace LoadGen;

/// <summary>Command line. Everything that runs is bounded: duration, warmup, per-request timeout, optional request cap.</summary>
internal sealed class Options
{
    public Uri Url { get; private set; } = null!;
    public string? Method { get; private set; }
    public List<string> Headers { get; } = [];
    public byte[]? Body { get; private set; }
    public int Connections { get; private set; } = 32;
    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(10);
    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(2);
    public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(30);
    public double Rate { get; private set; } // requests/s; 0 = closed loop
    public long MaxRequests { get; private set; } // 0 = no cap
    public bool Stream { get; private set; }
    public string? JsonPath { get; private set; }
    public bool Summary { get; private set; }
    public string Label { get; private set; } = "";
    public bool AllowRemote { get; private set; }

    public bool OpenLoop => Rate > 0;

    public const string Usage = """
        loadgen URL [options]     HTTP/1.1 load generator (closed or open loop) with SSE timing
          -c, --connections N     closed loop: connections sending back to back; open loop: max in flight (default 32)
          -d, --duration T        measured time, e.g. 10s, 500ms, 2m (default 10s)
          -w, --warmup T          unmeasured time before it (default 2s)
          -r, --rate R            open loop at R requests/s, latency from each request's intended send time
          -n, --max-requests N    stop after N measured requests
          -t, --timeout T         per-request timeout (default 30s)
          -X, --method M          default POST with a body, GET without
          -H, --header "K: V"     request header, repeatable (e.g. "Authorization: Bearer KEY")
              --body TEXT         request body (Content-Type defaults to application/json)
              --body-file FILE    request body from a file
              --stream            read the response as SSE: time to first token, gaps between chunks, truncation
              --json FILE         write the full report as JSON
              --summary           print one key=value line instead of the table (for scripts)
              --label NAME        name of this run in the reports
              --allow-remote      permit a non-loopback target (off: load tests stay on this machine)
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "-c" or "--connections": o.Connections = (int)Number(arg, Next(), 1, 100_000); break;
                case "-d" or "--duration": o.Duration = Time(arg, Next()); break;
                case "-w" or "--warmup": o.Warmup = Time(arg, Next(), allowZero: true); break;
                case "-t" or "--timeout": o.Timeout = Time(arg, Next()); break;
                case "-r" or "--rate": o.Rate = Number(arg, Next(), 0.001, 10_000_000); break;
                case "-n" or "--max-requests": o.MaxRequests = (long)Number(arg, Next(), 1, long.MaxValue); break;
                case "-X" or "--method": o.Method = Next().ToUpperInvariant(); break;
                case "-H" or "--header": o.Headers.Add(Header(Next())); break;
                case "--body": o.Body = System.Text.Encoding.UTF8.GetBytes(Next()); break;
                case "--body-file": o.Body = File.ReadAllBytes(Next()); break;
                case "--stream": o.Stream = true; break;
                case "--json": o.JsonPath = Next(); break;
                case "--summary": o.Summary = true; break;
                case "--label": o.Label = Next(); break;
                case "--allow-remote": o.AllowRemote = true; break;
                default:
                    if (arg.StartsWith('-') || o.Url is not null) throw new ArgumentException($"unknown argument {arg}");
                    o.Url = Uri.TryCreate(arg, UriKind.Absolute, out Uri? u) && u.Scheme == "http"
                        ? u : throw new ArgumentException($"URL must be absolute http:// (the raw client speaks plain HTTP/1.1), got {arg}");
                    break;
            }
        }
        if (o.Url is null) throw new ArgumentException("missing URL");
        return o;
    }

    private static string Header(string s) =>
        s.IndexOf(':', StringComparison.Ordinal) > 0 && !s.Contains('\r') && !s.Contains('\n')
            ? s : throw new ArgumentException($"header must look like \"Name: value\", got '{s}'");

    private static double Number(string name, string s, double min, double max) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max
            ? v : throw new ArgumentException($"{name}: expected a number in [{min}, {max}], got '{s}'");

    /// <summary>"10s", "250ms", "2m", "1h" or a bare number of seconds; capped at one day so no run is unbounded.</summary>
    private static TimeSpan Time(string name, string s, bool allowZero = false)
    {
        (string digits, double scale) = s.EndsWith("ms", StringComparison.Ordinal) ? (s[..^2], 0.001)
            : s.EndsWith('s') ? (s[..^1], 1) : s.EndsWith('m') ? (s[..^1], 60) : s.EndsWith('h') ? (s[..^1], 3600) : (s, 1);
        double seconds = Number(name, digits, 0, 86_400) * scale;
        if (seconds > 86_400 || (!allowZero && seconds <= 0)) throw new ArgumentException($"{name}: out of range: '{s}'");
        return TimeSpan.FromSeconds(seconds);
    }
}
