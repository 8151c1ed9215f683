using System.Net;
using Proxy.Credentials;

namespace Proxy.Core.Tests.Credentials;

public class TokenSourceTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static CancellationToken Bounded => new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token;

    private static ManagedIdentityTokenSource Imds(FakeTokenEndpoint fake, TimeProvider time, string? clientId = null, Func<string, string?>? env = null) =>
        new(new HttpMessageInvoker(fake), new ManagedIdentityOptions { Resource = "https://cognitiveservices.azure.com", ClientId = clientId }, time, env ?? (_ => null));

    private static ClientSecretTokenSource Secret(FakeTokenEndpoint fake, TimeProvider time) =>
        new(new HttpMessageInvoker(fake), new ClientSecretOptions
        {
            TenantId = "contoso.onmicrosoft.com",
            ClientId = "11111111-2222-3333-4444-555555555555",
            ClientSecret = "s3cr3t~value",
            Scope = "https://cognitiveservices.azure.com/.default",
            Authority = "http://127.0.0.1:9999/",
        }, time);

    [Fact]
    public async Task ManagedIdentity_AsksImdsWithMetadataHeaderResourceAndClientId()
    {
        var fake = new FakeTokenEndpoint();
        using var source = Imds(fake, new ManualClock(Start), clientId: "abc-123");

        Assert.Equal("token-1", await source.GetTokenAsync(Bounded));

        var r = Assert.Single(fake.Requests);
        Assert.Equal(HttpMethod.Get, r.Method);
        Assert.Equal("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcognitiveservices.azure.com&client_id=abc-123",
            r.Uri.ToString());
        Assert.Equal("true", r.Headers["Metadata"]);
    }

    [Fact]
    public async Task ManagedIdentity_HonoursIdentityEndpointAndHeaderFromTheEnvironment()
    {
        var fake = new FakeTokenEndpoint();
        var env = new Dictionary<string, string> { ["IDENTITY_ENDPOINT"] = "http://localhost:42356/msi/token", ["IDENTITY_HEADER"] = "hdr-secret" };
        using var source = Imds(fake, new ManualClock(Start), env: name => env.GetValueOrDefault(name));

        await source.GetTokenAsync(Bounded);

        var r = Assert.Single(fake.Requests);
        Assert.StartsWith("http://localhost:42356/msi/token?api-version=2019-08-01&resource=", r.Uri.ToString(), StringComparison.Ordinal);
        Assert.Equal("hdr-secret", r.Headers["X-IDENTITY-HEADER"]);
        Assert.False(r.Headers.ContainsKey("Metadata"));
        Assert.Equal("http://localhost:42356/msi/token", source.Endpoint);
    }

    [Fact]
    public async Task ClientSecret_PostsTheClientCredentialsGrant()
    {
        var fake = new FakeTokenEndpoint();
        using var source = Secret(fake, new ManualClock(Start));

        Assert.Equal("token-1", await source.GetTokenAsync(Bounded));

        var r = Assert.Single(fake.Requests);
        Assert.Equal(HttpMethod.Post, r.Method);
        Assert.Equal("http://127.0.0.1:9999/contoso.onmicrosoft.com/oauth2/v2.0/token", r.Uri.ToString());
        Assert.Equal("application/x-www-form-urlencoded", r.Headers["Content-Type"]);
        Assert.Equal("grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555&client_secret=s3cr3t~value"
            + "&scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default", r.Body);
    }

    [Fact]
    public async Task Token_IsCachedThenRefreshedFiveMinutesBeforeExpiry()
    {
        var clock = new ManualClock(Start);
        var fake = new FakeTokenEndpoint { Responder = n => (HttpStatusCode.OK, $$"""{"access_token":"token-{{n}}","expires_in":3600}""") };
        using var source = Secret(fake, clock);

        Assert.Equal("token-1", await source.GetTokenAsync(Bounded));
        clock.Now = Start.AddMinutes(54);
        Assert.Equal("token-1", await source.GetTokenAsync(Bounded));
        Assert.Equal(1, source.Fetches);

        clock.Now = Start.AddMinutes(55).AddSeconds(1);
        Assert.Equal("token-2", await source.GetTokenAsync(Bounded));
        Assert.Equal(2, source.Fetches);
    }

    [Fact]
    public async Task ShortLivedToken_IsRefreshedAtHalfLife()
    {
        var clock = new ManualClock(Start);
        var fake = new FakeTokenEndpoint { Responder = n => (HttpStatusCode.OK, $$"""{"access_token":"token-{{n}}","expires_in":360}""") };
        using var source = Imds(fake, clock);

        await source.GetTokenAsync(Bounded);
        clock.Now = Start.AddSeconds(179);
        Assert.Equal("token-1", await source.GetTokenAsync(Bounded));
        clock.Now = Start.AddSeconds(181);
        Assert.Equal("token-2", await source.GetTokenAsync(Bounded));
    }

    [Fact]
    public async Task ConcurrentCallers_ShareOneFetch()
    {
        var fake = new FakeTokenEndpoint { Delay = TimeSpan.FromMilliseconds(200) };
        using var source = Secret(fake, new ManualClock(Start));

        var tokens = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => source.GetTokenAsync(Bounded).AsTask()));

        Assert.All(tokens, t => Assert.Equal("token-1", t));
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task FailedRefresh_KeepsAStillValidToken_ThenFailsClearlyOnceExpired()
    {
        var clock = new ManualClock(Start);
        var fake = new FakeTokenEndpoint
        {
            Responder = n => n == 1
                ? (HttpStatusCode.OK, """{"access_token":"token-1","expires_in":3600}""")
                : (HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"""),
        };
        using var source = Secret(fake, clock);
        await source.GetTokenAsync(Bounded);

        clock.Now = Start.AddMinutes(57);
        Assert.Equal("token-1", await source.GetTokenAsync(Bounded));

        clock.Now = Start.AddMinutes(61);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => source.GetTokenAsync(Bounded).AsTask());
        Assert.Contains("client secret token request to http://127.0.0.1:9999/contoso.onmicrosoft.com/oauth2/v2.0/token failed: HTTP 401", error.Message, StringComparison.Ordinal);
        Assert.Contains("AADSTS7000215", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("token-1", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowEndpoint_TimesOutNamingIt()
    {
        var fake = new FakeTokenEndpoint { Delay = TimeSpan.FromSeconds(5) };
        using var source = new ManagedIdentityTokenSource(new HttpMessageInvoker(fake),
            new ManagedIdentityOptions { Resource = "r", Endpoint = "http://127.0.0.1:1/token", Timeout = TimeSpan.FromMilliseconds(200) }, TimeProvider.System);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => source.GetTokenAsync(Bounded).AsTask());
        Assert.Contains("managed identity token request to http://127.0.0.1:1/token timed out", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"access_token\":\"t\",\"expires_on\":\"1800000000\"}", 1800000000L)]
    [InlineData("{\"access_token\":\"t\",\"expires_on\":1800000000}", 1800000000L)]
    [InlineData("{\"token_type\":\"Bearer\",\"access_token\":\"t\",\"expires_in\":\"600\"}", 1700000600L)]
    [InlineData("{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"t\"}", 1700003599L)]
    public void TokenResponse_ExpiryIsRead(string json, long expectedEpoch)
    {
        var token = EntraTokenResponse.Parse(System.Text.Encoding.UTF8.GetBytes(json), DateTimeOffset.FromUnixTimeSeconds(1700000000));

        Assert.Equal("t", token.Token);
        Assert.Equal(expectedEpoch, token.ExpiresOn.ToUnixTimeSeconds());
        Assert.DoesNotContain("\"t\"", token.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SecretsNeverPrint()
    {
        var options = new ClientSecretOptions { TenantId = "t", ClientId = "c", ClientSecret = "s3cr3t", Scope = "s" };

        Assert.DoesNotContain("s3cr3t", options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("abc", new AccessToken("abc", Start).ToString(), StringComparison.Ordinal);
    }
}
