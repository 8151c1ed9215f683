namespace Proxy.Functional.Tests.Fixtures;

/// <summary>The streamed request most stream tests send, and reading its answer whole.</summary>
public static class Streams
{
    public const string Body = """{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

    /// <summary>The standard config with a 1 s idle timeout, for the tests about stalls.</summary>
    public static string ShortIdle(string upstreamBaseUrl) => TestConfig.Standard(upstreamBaseUrl, idleTimeout: "1s");

    /// <summary>Sends <see cref="Body"/>, checks it is answered as a stream, and returns every event's data.</summary>
    public static async Task<List<string>> EventsAsync(TestEnv env)
    {
        using var response = await env.Gateway.PostAsync("/v1/chat/completions", Body);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return Sse.Parse(await Http.ReadBodyAsync(response));
    }

    /// <summary>
    /// For streams that break: reads events as they arrive until the gateway aborts the connection, asserts that
    /// it did abort (a broken stream must not end like a complete one), and returns the events seen before.
    /// </summary>
    public static async Task<List<string>> EventsUntilAbortAsync(TestEnv env)
    {
        using var response = await env.Gateway.PostStreamingAsync("/v1/chat/completions", Body);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        try
        {
            while (await reader.NextDataAsync(TimeSpan.FromTicks(Math.Max(1, (deadline - DateTime.UtcNow).Ticks))) is { } data) events.Add(data);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return events;
        }
        Assert.Fail($"the stream ended cleanly after {events.Count} events; a broken stream must end with an aborted connection");
        return events;
    }
}
