using System.Net;
using Proxy.Providers.Google;
using Proxy.Providers.Tests.Gemini;

namespace Proxy.Providers.Tests.Google;

/// <summary>The handler in front of the provider's pool: bearer tokens on, rejected tokens dropped, token failures explained.</summary>
public class GoogleAuthHandlerTests
{
    private readonly FixedTime _time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Request_GetsTheBearerToken_AndA401DropsIt()
    {
        int n = 0;
        var tokens = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.t" + ++n))));
        int calls = 0;
        var upstream = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(++calls == 1 ? 401 : 200, "{}")));
        using var invoker = new HttpMessageInvoker(new GoogleAuthHandler(new MetadataServerTokenSource("m.test", new HttpMessageInvoker(tokens), _time), upstream));

        using var first = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "https://vertex.test/x"), CancellationToken.None);
        using var second = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "https://vertex.test/x"), CancellationToken.None);

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal("Bearer ya29.t1", upstream.Requests[0].Request.Headers.Authorization!.ToString());
        Assert.Equal("Bearer ya29.t2", upstream.Requests[1].Request.Headers.Authorization!.ToString());
    }

    [Fact]
    public async Task NoToken_IsAGoogle401ThatClassifiesAsUpstreamAuthFailed()
    {
        var tokens = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(404, "Not Found")));
        var upstream = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, "{}")));
        using var invoker = new HttpMessageInvoker(new GoogleAuthHandler(new MetadataServerTokenSource("m.test", new HttpMessageInvoker(tokens), _time), upstream));

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "https://vertex.test/x"), CancellationToken.None);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(upstream.Requests); // nothing is sent without a token
        var failure = GoogleErrors.Classify("vtx", 401, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(502, failure.Status);
        Assert.Equal("upstream_auth_failed", failure.Code);
        Assert.Contains("could not get an access token from the metadata server http://m.test: the metadata server http://m.test answered HTTP 404", failure.Message, StringComparison.Ordinal);
    }
}
