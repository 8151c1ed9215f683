using System.Net.Sockets;
using System.Text;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>An HTTP/1.1 answer as read off the socket.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>How a raw client ends its request.</summary>
public enum RawEnding
{
    /// <summary>Reads the answer to the end of the connection (send <c>Connection: close</c>).</summary>
    ReadAnswer,

    /// <summary>Closes the connection (FIN) once the bytes are sent, without reading anything.</summary>
    Close,

    /// <summary>Resets the connection (RST, a zero linger) once the bytes are sent.</summary>
    Reset,
}

/// <summary>
/// A client below HttpClient, for requests HttpClient will not send: broken chunked framing, a body shorter than its
/// Content-Length, a connection closed or reset mid-body. Bounded in time.
/// </summary>
public static class RawHttp
{
    /// <summary>A request head (CRLF line ends, the blank line included) with these header lines.</summary>
    public static byte[] Head(string path, params string[] headers) =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: localhost\r\n{string.Concat(headers.Select(h => h + "\r\n"))}\r\n");

    /// <summary>Sends <paramref name="request"/>; returns the answer, or null when the ending reads none.</summary>
    public static async Task<RawResponse?> SendAsync(string baseUrl, byte[] request, RawEnding ending)
    {
        var uri = new Uri(baseUrl);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(uri.Host, uri.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, timeout.Token);
        if (ending != RawEnding.ReadAnswer)
        {
            // Mid-body: give the gateway time to be waiting for the rest before the client goes.
            await Task.Delay(200, timeout.Token);
            if (ending == RawEnding.Reset) client.LingerState = new LingerOption(true, 0);
            client.Close();
            return null;
        }
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        return Parse(received.ToArray());
    }

    private static RawResponse Parse(byte[] bytes)
    {
        int end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(end > 0, $"no complete answer head in {bytes.Length} bytes: {Encoding.UTF8.GetString(bytes)}");
        var lines = Encoding.ASCII.GetString(bytes, 0, end).Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var body = bytes.AsSpan(end + 4);
        bool chunked = headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        return new RawResponse(status, headers, Encoding.UTF8.GetString(chunked ? Dechunk(body) : body));
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> chunked)
    {
        var body = new List<byte>();
        while (true)
        {
            int lineEnd = chunked.IndexOf("\r\n"u8);
            Assert.True(lineEnd >= 0, "chunked answer cut off");
            int size = Convert.ToInt32(Encoding.ASCII.GetString(chunked[..lineEnd]), 16);
            if (size == 0) return [.. body];
            body.AddRange(chunked.Slice(lineEnd + 2, size));
            chunked = chunked[(lineEnd + 2 + size + 2)..];
        }
    }
}
