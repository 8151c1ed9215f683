using Proxy.Providers.Google;
using Proxy.Providers.Tests.Gemini;

namespace Proxy.Providers.Tests.Google;

/// <summary>The GCE/GKE metadata server flow and where its host comes from.</summary>
public class MetadataServerTokenTests
{
    private readonly FixedTime _time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Token_FromTheMetadataServer_WithTheFlavorHeader()
    {
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.gce", 3599))));
        using var source = new MetadataServerTokenSource("metadata.test:8080", new HttpMessageInvoker(endpoint), _time);

        Assert.Equal("ya29.gce", await source.GetTokenAsync(CancellationToken.None));
        Assert.Equal("ya29.gce", await source.GetTokenAsync(CancellationToken.None));

        var (request, _) = Assert.Single(endpoint.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("http://metadata.test:8080/computeMetadata/v1/instance/service-accounts/default/token", request.RequestUri!.ToString());
        Assert.Equal("Google", Assert.Single(request.Headers.GetValues("Metadata-Flavor")));
    }

    [Fact]
    public async Task Token_RefreshedBeforeExpiry()
    {
        int n = 0;
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.m" + ++n, 3599))));
        using var source = new MetadataServerTokenSource("metadata.test", new HttpMessageInvoker(endpoint), _time);

        await source.GetTokenAsync(CancellationToken.None);
        _time.Now += TimeSpan.FromMinutes(55);

        Assert.Equal("ya29.m2", await source.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Token_NotOnGce_SaysTheMetadataServerFailed()
    {
        var endpoint = new FakeEndpoint((_, _) => throw new HttpRequestException("Name or service not known (metadata.google.internal:80)"));
        using var source = new MetadataServerTokenSource(MetadataServerTokenSource.DefaultHost, new HttpMessageInvoker(endpoint), _time);

        var e = await Assert.ThrowsAsync<GoogleAuthException>(() => source.GetTokenAsync(CancellationToken.None).AsTask());

        Assert.Contains("the metadata server http://metadata.google.internal could not be reached", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.9:8080", "169.254.169.254", "10.0.0.9:8080")] // the config wins
    [InlineData(null, "169.254.169.254", "169.254.169.254")]          // then GCE_METADATA_HOST, as Google's libraries read it
    [InlineData(null, null, "metadata.google.internal")]
    public void Host_ConfigThenEnvironmentThenDefault(string? configured, string? environment, string expected)
    {
        var host = MetadataServerTokenSource.ResolveHost(configured, name => name == "GCE_METADATA_HOST" ? environment : null);

        Assert.Equal(expected, host);
    }
}
