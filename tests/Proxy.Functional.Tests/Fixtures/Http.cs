namespace Proxy.Functional.Tests.Fixtures;

/// <summary>Small HTTP helpers the tests share.</summary>
public static class Http
{
    /// <summary>The whole body, bounded in time (HttpClient.Timeout does not cover bodies read after the headers).</summary>
    public static async Task<string> ReadBodyAsync(HttpResponseMessage response, int seconds = 10)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await response.Content.ReadAsStringAsync(cts.Token);
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues) : null;
}
