using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Proxy.Core.Tests.Credentials;

/// <summary>A settable clock.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// A token endpoint in process: records each request (method, URL, headers, body) and answers with the responder's
/// status and JSON. Speaks like IMDS / Entra ID: {"access_token","expires_on"} or {"access_token","expires_in"}.
/// </summary>
internal sealed class FakeTokenEndpoint : HttpMessageHandler
{
    private int _count;

    public sealed record Received(HttpMethod Method, Uri Uri, Dictionary<string, string> Headers, string Body);

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Given the 1-based request number: status and body.</summary>
    public Func<int, (HttpStatusCode Status, string Body)> Responder { get; set; } =
        n => (HttpStatusCode.OK, $$"""{"access_token":"token-{{n}}","expires_in":3599,"token_type":"Bearer"}""");

    public TimeSpan Delay { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        if (request.Content is not null)
        {
            foreach (var h in request.Content.Headers) headers[h.Key] = string.Join(",", h.Value);
        }
        Requests.Enqueue(new Received(request.Method, request.RequestUri!, headers, body));
        var n = Interlocked.Increment(ref _count);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
        var (status, json) = Responder(n);
        return new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
    }
}
