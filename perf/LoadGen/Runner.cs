using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace LoadGen;

internal enum ErrorKind { Connect, Timeout, Closed, Protocol, Http1xx, Http3xx, Http4xx, Http5xx, StreamTruncated, Backlog }

/// <summary>What one worker measured. Only that worker writes it, so no locks; the runner merges all of them at the end.</summary>
internal sealed class Stats(bool openLoop, bool stream)
{
    public static readonly string[] ErrorNames =
        ["connect", "timeout", "closed", "protocol", "http_1xx", "http_3xx", "http_4xx", "http_5xx", "stream_truncated", "backlog"];

    public Histogram Latency { get; } = new();
    public Histogram Ttfb { get; } = new();
    public Histogram? Service { get; } = openLoop ? new() : null; // open loop: from the actual send, for comparison
    public Histogram? Ttft { get; } = stream ? new() : null;
    public Histogram? Gap { get; } = stream ? new() : null;
    public long[] Errors { get; } = new long[ErrorNames.Length];
    public long Ok { get; set; }
    public long BodyBytes { get; set; }
    public long LastDoneTicks { get; set; }

    public void Merge(Stats o)
    {
        Latency.Merge(o.Latency);
        Ttfb.Merge(o.Ttfb);
        if (o.Service is not null) Service?.Merge(o.Service);
        if (o.Ttft is not null) Ttft?.Merge(o.Ttft);
        if (o.Gap is not null) Gap?.Merge(o.Gap);
        for (int i = 0; i < Errors.Length; i++) Errors[i] += o.Errors[i];
        Ok += o.Ok;
        BodyBytes += o.BodyBytes;
        LastDoneTicks = Math.Max(LastDoneTicks, o.LastDoneTicks);
    }
}

/// <summary>The clock and the shared counters of one run. Timestamps are Stopwatch ticks.</summary>
internal sealed class Run(Options options, RequestTemplate request)
{
    private long _claimed, _next;
    private readonly CancellationTokenSource _stop = new();

    public Options Options => options;
    public RequestTemplate Request => request;
    public long StartTicks { get; private set; }
    public long MeasureTicks { get; private set; }
    public long EndTicks { get; private set; }
    private double TicksPerRequest => Stopwatch.Frequency / options.Rate;
    public bool Stopping => _stop.IsCancellationRequested;
    /// <summary>Cancelled by Ctrl+C: wakes open-loop workers sleeping until a slot far ahead (low rates).</summary>
    public CancellationToken StopToken => _stop.Token;

    public void Start(long now)
    {
        StartTicks = now;
        MeasureTicks = now + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        EndTicks = MeasureTicks + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
    }

    public void Stop() => _stop.Cancel();

    /// <summary>One measured request may go out (the --max-requests cap; warmup requests are never counted).</summary>
    public bool TryClaim() => options.MaxRequests == 0 || Interlocked.Increment(ref _claimed) <= options.MaxRequests;

    /// <summary>Open loop: the intended send time of the next request on the fixed-rate schedule.</summary>
    public long NextIntended() => StartTicks + (long)((Interlocked.Increment(ref _next) - 1) * TicksPerRequest);

    /// <summary>Open loop: how many requests the schedule called for before the end, warmup included.</summary>
    public long Scheduled() => (long)Math.Ceiling((EndTicks - StartTicks) / TicksPerRequest);

    /// <summary>True when --max-requests ended the run: the unsent rest of the schedule is then no backlog.</summary>
    public bool CapReached => options.MaxRequests > 0 && Interlocked.Read(ref _claimed) >= options.MaxRequests;
}

/// <summary>One connection and the loop that drives it.</summary>
internal sealed class Worker(Run run) : IDisposable
{
    private const int ConnectBackoffMs = 10; // a refused port must not turn the loop into a spin
    private readonly HttpConnection _conn = new(run.Request.EndPoint);
    private readonly SseScanner? _sse = run.Options.Stream ? new() : null;
    private CancellationTokenSource _timeout = new();

    public Stats Stats { get; } = new(run.Options.OpenLoop, run.Options.Stream);

    /// <summary>Open loop: requests this worker sent, warmup included (the rest of the schedule is the backlog).</summary>
    public long Sent { get; private set; }

    /// <summary>Opens the connection before the clock starts, so the first measured requests do not pay for it. Failures are retried (and counted) by the loop.</summary>
    public async Task PreconnectAsync()
    {
        try { await _conn.ConnectAsync(ArmTimeout()); }
        catch (Exception e) when (e is SocketException or OperationCanceledException) { _conn.Close(); }
    }

    /// <summary>Closed loop: send, wait for the whole response, send again, until the end of the run.</summary>
    public async Task ClosedLoopAsync()
    {
        while (!run.Stopping)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= run.EndTicks) return;
            bool measured = now >= run.MeasureTicks;
            if (measured && !run.TryClaim()) return;
            await ExchangeAsync(now, now, measured);
        }
    }

    /// <summary>
    /// Open loop: every worker takes the next slot of one fixed-rate schedule. If this worker was still busy
    /// when its slot came, the server made the request wait, so latency counts from the intended time (this is
    /// what keeps coordinated omission from hiding the tail). If it was idle and only the ~1 ms timer made it
    /// late, latency counts from the actual send. A request is measured when it is sent after the warmup, even
    /// if its slot fell inside the warmup: an overloaded server then shows its queueing delay in the numbers.
    /// </summary>
    public async Task OpenLoopAsync()
    {
        long freeTicks = Stopwatch.GetTimestamp();
        while (!run.Stopping)
        {
            long intended = run.NextIntended();
            if (intended >= run.EndTicks || Stopwatch.GetTimestamp() >= run.EndTicks) return;
            long wait = intended - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                try { await Task.Delay((int)Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency), run.StopToken); }
                catch (OperationCanceledException) { return; }
            }
            long sent = Stopwatch.GetTimestamp();
            bool measured = sent >= run.MeasureTicks;
            if (measured && !run.TryClaim()) return;
            Sent++;
            await ExchangeAsync(freeTicks > intended ? intended : sent, sent, measured);
            freeTicks = Stopwatch.GetTimestamp();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // no Task allocated per request
    private async ValueTask ExchangeAsync(long fromTicks, long sentTicks, bool measured)
    {
        CancellationToken ct = ArmTimeout();
        if (!_conn.Connected)
        {
            try { await _conn.ConnectAsync(ct); }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                Count(measured, ErrorKind.Connect);
                await Task.Delay(ConnectBackoffMs);
                return;
            }
        }

        _sse?.Reset(measured ? Stats.Gap : null);
        HttpResult r;
        try
        {
            r = await _conn.ExchangeAsync(run.Request.Bytes, run.Request.IsHead, _sse, ct);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or HttpProtocolException or ObjectDisposedException)
        {
            int status = _conn.CurrentStatus;
            _conn.Close();
            Count(measured, ct.IsCancellationRequested ? ErrorKind.Timeout
                : e is HttpProtocolException ? ErrorKind.Protocol
                : _sse is not null && status is >= 200 and < 300 ? ErrorKind.StreamTruncated // headers came, the stream broke
                : ErrorKind.Closed);
            return;
        }
        long done = Stopwatch.GetTimestamp();
        if (!r.KeepAlive) _conn.Close();
        if (!measured) return;

        ErrorKind? error = r.Status switch
        {
            < 200 => ErrorKind.Http1xx,
            < 300 => _sse is { Done: false } ? ErrorKind.StreamTruncated : null,
            < 400 => ErrorKind.Http3xx,
            < 500 => ErrorKind.Http4xx,
            _ => ErrorKind.Http5xx,
        };
        if (error is { } kind)
        {
            Count(true, kind);
            return;
        }
        Stats.Ok++;
        Stats.LastDoneTicks = done;
        Stats.BodyBytes += r.BodyBytes;
        Stats.Latency.RecordTicks(done - fromTicks);
        Stats.Ttfb.RecordTicks(r.FirstByteTicks - fromTicks);
        Stats.Service?.RecordTicks(done - sentTicks);
        if (_sse is { TextEvents: > 0 }) Stats.Ttft!.RecordTicks(_sse.FirstTokenTicks - fromTicks);
    }

    private void Count(bool measured, ErrorKind kind)
    {
        if (!measured) return;
        Stats.Errors[(int)kind]++;
        Stats.LastDoneTicks = Stopwatch.GetTimestamp();
    }

    /// <summary>One reusable timeout source per worker: TryReset re-arms it without allocating.</summary>
    private CancellationToken ArmTimeout()
    {
        if (!_timeout.TryReset())
        {
            _timeout.Dispose();
            _timeout = new CancellationTokenSource();
        }
        _timeout.CancelAfter(run.Options.Timeout);
        return _timeout.Token;
    }

    public void Dispose()
    {
        _conn.Dispose();
        _timeout.Dispose();
    }
}

/// <summary>Client CPU seconds and gen-0 GCs during the run let the reader check that loadgen itself was not the bottleneck.</summary>
internal sealed record RunResult(Stats Stats, double ElapsedSeconds, DateTimeOffset StartedAt, double ClientCpuSeconds, int ClientGen0Gcs);

internal static class Runner
{
    public static async Task<RunResult> RunAsync(Run run)
    {
        Options o = run.Options;
        var workers = new Worker[o.Connections];
        for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(run);
        try
        {
            await Task.WhenAll(workers.Select(w => w.PreconnectAsync()));
            DateTimeOffset startedAt = DateTimeOffset.UtcNow;
            TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            int gc0 = GC.CollectionCount(0);
            run.Start(Stopwatch.GetTimestamp());
            await Task.WhenAll(workers.Select(w => Task.Run(o.OpenLoop ? w.OpenLoopAsync : w.ClosedLoopAsync)));

            var total = new Stats(o.OpenLoop, o.Stream);
            foreach (Worker w in workers) total.Merge(w.Stats);
            // Open loop: slots that came before the end but found every connection busy until then.
            if (o.OpenLoop && !run.CapReached && !run.Stopping)
                total.Errors[(int)ErrorKind.Backlog] = Math.Max(0, run.Scheduled() - workers.Sum(w => w.Sent));
            // Rates are per second of measurement: from the end of warmup to the last measured completion.
            long last = total.LastDoneTicks > run.MeasureTicks ? total.LastDoneTicks : Stopwatch.GetTimestamp();
            double elapsed = Math.Max(1e-6, (double)(last - run.MeasureTicks) / Stopwatch.Frequency);
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            return new RunResult(total, elapsed, startedAt, Math.Round(cpu, 2), GC.CollectionCount(0) - gc0);
        }
        finally
        {
            foreach (Worker w in workers) w.Dispose();
        }
    }
}
