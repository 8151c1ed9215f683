using System.Text;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>Reads server-sent events off a response as they arrive, each read bounded in time.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    /// <summary>The next event's data (lines joined by \n), or null when the stream ends.</summary>
    public async Task<string?> NextDataAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        var data = new StringBuilder();
        bool any = false;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            if (line is null) return any ? data.ToString() : null;
            if (line.Length == 0)
            {
                if (any) return data.ToString();
                continue;
            }
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            if (any) data.Append('\n');
            data.Append(line.AsSpan(line.StartsWith("data: ", StringComparison.Ordinal) ? 6 : 5));
            any = true;
        }
    }

    /// <summary>Every remaining event's data until the stream ends.</summary>
    public async Task<List<string>> ReadAllAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var all = new List<string>();
        while (await NextDataAsync(Remaining(deadline)) is { } data) all.Add(data);
        return all;
    }

    private static TimeSpan Remaining(DateTime deadline) => TimeSpan.FromTicks(Math.Max(1, (deadline - DateTime.UtcNow).Ticks));

    public void Dispose() => _reader.Dispose();
}

public static class Sse
{
    /// <summary>The data of every event in a whole SSE body.</summary>
    public static List<string> Parse(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart(' ')))
            .Where(lines => lines.Any())
            .Select(lines => string.Join('\n', lines))
            .ToList();
}
