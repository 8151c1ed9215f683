using System.Globalization;

namespace MockUpstream;

/// <summary>Server-wide defaults, from the command line. Every timing knob can be overridden per request (see <see cref="Pacing"/>).</summary>
internal sealed class MockOptions
{
    public string Urls { get; private set; } = "http://127.0.0.1:9100";
    public int LatencyMs { get; private set; }
    public int TtftMs { get; private set; }
    public int Chunks { get; private set; } = 32;
    public int ChunkIntervalMs { get; private set; }
    public int CompletionTokens { get; private set; } = 32;
    public int PromptTokens { get; private set; } = 10;
    public int EmbeddingDims { get; private set; } = 1536;
    public string Model { get; private set; } = "gpt-4o-mini";

    public const string Usage = """
        mock-upstream: a fake LLM provider for load tests (OpenAI chat/embeddings/models).
          --urls URL               listen address (default http://127.0.0.1:9100)
          --latency-ms N           delay before the response headers (default 0)
          --ttft-ms N              stream: delay after the headers, before the first token (default 0)
          --chunks N               stream: content chunks per response (default 32)
          --chunk-interval-ms N    stream: delay between content chunks (default 0)
          --completion-tokens N    tokens in the completion, spread over the chunks (default 32)
          --prompt-tokens N        prompt_tokens reported in chat usage (default 10)
          --embedding-dims N       embedding vector length when the request has no "dimensions" (default 1536)
          --model NAME             model name in responses and /v1/models (default gpt-4o-mini)
        Per-request overrides (headers): x-mock-latency-ms, x-mock-ttft-ms, x-mock-chunks, x-mock-chunk-interval-ms.
        """;

    /// <summary>Parses "--name value" or "--name=value"; unknown flags are errors so a typo cannot silently run the wrong scenario.</summary>
    public static MockOptions Parse(string[] args)
    {
        var o = new MockOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) { value = arg[(eq + 1)..]; arg = arg[..eq]; }
            string Next() => value ?? (i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value"));
            switch (arg)
            {
                case "--urls": o.Urls = Next(); break;
                case "--latency-ms": o.LatencyMs = Int(arg, Next(), 0); break;
                case "--ttft-ms": o.TtftMs = Int(arg, Next(), 0); break;
                case "--chunks": o.Chunks = Int(arg, Next(), 1); break;
                case "--chunk-interval-ms": o.ChunkIntervalMs = Int(arg, Next(), 0); break;
                case "--completion-tokens": o.CompletionTokens = Int(arg, Next(), 1); break;
                case "--prompt-tokens": o.PromptTokens = Int(arg, Next(), 0); break;
                case "--embedding-dims": o.EmbeddingDims = Int(arg, Next(), 1); break;
                case "--model": o.Model = Next(); break;
                default: throw new ArgumentException($"unknown option {arg}");
            }
        }
        return o;
    }

    private static int Int(string name, string s, int min) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= Pacing.MaxValue
            ? v : throw new ArgumentException($"{name} must be an integer in [{min}, {Pacing.MaxValue}], got '{s}'");
}

/// <summary>The timing of one response: the server defaults, overridden by x-mock-* request headers so one server serves several scenarios.</summary>
internal readonly record struct Pacing(int LatencyMs, int TtftMs, int Chunks, int ChunkIntervalMs)
{
    /// <summary>Upper bound for every knob (10 minutes / 100k chunks): a bad header cannot park a request forever.</summary>
    public const int MaxValue = 600_000;
    public const int MaxChunks = 100_000;

    public static Pacing For(HttpRequest request, MockOptions o)
    {
        IHeaderDictionary h = request.Headers;
        return new Pacing(
            Header(h, "x-mock-latency-ms", o.LatencyMs, 0, MaxValue),
            Header(h, "x-mock-ttft-ms", o.TtftMs, 0, MaxValue),
            Header(h, "x-mock-chunks", o.Chunks, 1, MaxChunks),
            Header(h, "x-mock-chunk-interval-ms", o.ChunkIntervalMs, 0, MaxValue));
    }

    // An absent header is a dictionary miss, no allocation; a malformed one falls back to the default.
    private static int Header(IHeaderDictionary h, string name, int fallback, int min, int max) =>
        h.TryGetValue(name, out var v) && int.TryParse(v.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            ? Math.Clamp(n, min, max) : fallback;

    /// <summary>Awaits only when there is something to wait for: a zero delay costs no timer and no allocation.</summary>
    public static Task Delay(int ms, CancellationToken ct) => ms > 0 ? Task.Delay(ms, ct) : Task.CompletedTask;
}
