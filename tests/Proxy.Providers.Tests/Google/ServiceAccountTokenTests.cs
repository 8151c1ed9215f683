using System.Web;
using Proxy.Providers.Google;
using Proxy.Providers.Tests.Gemini;

namespace Proxy.Providers.Tests.Google;

/// <summary>The service-account flow: a signed JWT exchanged at the key's token_uri, cached, refreshed before expiry.</summary>
public sealed class ServiceAccountTokenTests : IDisposable
{
    private const string TokenUri = "https://oauth2.test/token";
    private readonly TestServiceAccount _account = new(TokenUri);
    private readonly FixedTime _time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Jwt_IsSignedRs256WithTheKeysClaims()
    {
        var key = ServiceAccountKey.Load(_account.Path);

        var jwt = ServiceAccountJwt.Create(key, GoogleCredentials.CloudPlatformScope, _time.Now);

        var (header, claims) = TestServiceAccount.Verify(jwt, _account.Rsa);
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.GetProperty("typ").GetString());
        Assert.Equal(TestServiceAccount.KeyId, header.GetProperty("kid").GetString());
        Assert.Equal(TestServiceAccount.Email, claims.GetProperty("iss").GetString());
        Assert.Equal("https://www.googleapis.com/auth/cloud-platform", claims.GetProperty("scope").GetString());
        Assert.Equal(TokenUri, claims.GetProperty("aud").GetString());
        Assert.Equal(_time.Now.ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
        Assert.Equal(_time.Now.ToUnixTimeSeconds() + 3600, claims.GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Token_ExchangesTheJwtAtTheTokenUri()
    {
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.first"))));
        using var source = Source(endpoint);

        var token = await source.GetTokenAsync(CancellationToken.None);

        Assert.Equal("ya29.first", token);
        var (request, body) = Assert.Single(endpoint.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(TokenUri, request.RequestUri!.ToString());
        Assert.Equal("application/x-www-form-urlencoded", request.Content!.Headers.ContentType!.MediaType);
        var form = HttpUtility.ParseQueryString(body);
        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", form["grant_type"]);
        var (_, claims) = TestServiceAccount.Verify(form["assertion"]!, _account.Rsa);
        Assert.Equal(TestServiceAccount.Email, claims.GetProperty("iss").GetString());
    }

    [Fact]
    public async Task Token_IsCachedAndRefreshedFiveMinutesBeforeExpiry()
    {
        int n = 0;
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.t" + ++n, expiresIn: 3600))));
        using var source = Source(endpoint);

        Assert.Equal("ya29.t1", await source.GetTokenAsync(CancellationToken.None));
        _time.Now += TimeSpan.FromMinutes(54);
        Assert.Equal("ya29.t1", await source.GetTokenAsync(CancellationToken.None));
        Assert.Equal(1, source.Fetches);

        _time.Now += TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1); // 55 min in: inside the 5-minute margin
        Assert.Equal("ya29.t2", await source.GetTokenAsync(CancellationToken.None));
        Assert.Equal(2, source.Fetches);
        // The new assertion is issued at the refresh time, not reused.
        var (_, claims) = TestServiceAccount.Verify(HttpUtility.ParseQueryString(endpoint.Requests[1].Body)["assertion"]!, _account.Rsa);
        Assert.Equal(_time.Now.ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task Token_ConcurrentCallers_OneRefresh()
    {
        var release = new TaskCompletionSource();
        var endpoint = new FakeEndpoint(async (_, _) =>
        {
            await release.Task;
            return FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.shared"));
        });
        using var source = Source(endpoint);

        var callers = Enumerable.Range(0, 16).Select(_ => source.GetTokenAsync(CancellationToken.None).AsTask()).ToArray();
        await Task.Delay(50);
        release.SetResult();
        var tokens = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.All(tokens, t => Assert.Equal("ya29.shared", t));
        Assert.Single(endpoint.Requests);
    }

    [Fact]
    public async Task Token_RotatedKeyFile_IsReadAtTheNextRefresh()
    {
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.x", expiresIn: 600))));
        using var source = Source(endpoint);
        await source.GetTokenAsync(CancellationToken.None);

        _account.Rotate();
        _time.Now += TimeSpan.FromMinutes(6); // past the half-life refresh of a 10-minute token
        await source.GetTokenAsync(CancellationToken.None);

        Assert.Equal(2, endpoint.Requests.Count);
        TestServiceAccount.Verify(HttpUtility.ParseQueryString(endpoint.Requests[1].Body)["assertion"]!, _account.Rsa);
    }

    [Fact]
    public async Task Token_EndpointRefuses_ErrorNamesTheReasonNotTheKey()
    {
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(FakeEndpoint.Json(400, """{"error":"invalid_grant","error_description":"Invalid JWT Signature."}""")));
        using var source = Source(endpoint);

        var e = await Assert.ThrowsAsync<GoogleAuthException>(() => source.GetTokenAsync(CancellationToken.None).AsTask());

        Assert.Contains("HTTP 400: invalid_grant: Invalid JWT Signature.", e.Message, StringComparison.Ordinal);
        Assert.Contains(TestServiceAccount.Email, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_RefreshFailsWhileOldTokenStillValid_OldTokenIsUsed()
    {
        int n = 0;
        var endpoint = new FakeEndpoint((_, _) => Task.FromResult(++n == 1 ? FakeEndpoint.Json(200, FakeEndpoint.Token("ya29.old", 3600)) : FakeEndpoint.Json(503, "{}")));
        using var source = Source(endpoint);
        await source.GetTokenAsync(CancellationToken.None);

        _time.Now += TimeSpan.FromMinutes(56);

        Assert.Equal("ya29.old", await source.GetTokenAsync(CancellationToken.None));
        _time.Now += TimeSpan.FromMinutes(4); // now expired: the failure surfaces
        await Assert.ThrowsAsync<GoogleAuthException>(() => source.GetTokenAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public void Key_NotAServiceAccount_IsRefusedWithTheReason()
    {
        File.WriteAllText(_account.Path, """{"type":"authorized_user","client_id":"x","refresh_token":"secret"}""");

        var e = Assert.Throws<GoogleAuthException>(() => ServiceAccountKey.Load(_account.Path));

        Assert.Contains("not a service account key (type is 'authorized_user'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_BrokenPem_IsRefused()
    {
        File.WriteAllText(_account.Path, $$"""{"type":"service_account","client_email":"{{TestServiceAccount.Email}}","private_key":"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}""");

        var e = Assert.Throws<GoogleAuthException>(() => ServiceAccountKey.Load(_account.Path));

        Assert.Contains("is not a PEM RSA private key", e.Message, StringComparison.Ordinal);
    }

    private ServiceAccountTokenSource Source(FakeEndpoint endpoint) =>
        new(_account.Path, GoogleCredentials.CloudPlatformScope, new HttpMessageInvoker(endpoint), _time);

    public void Dispose() => _account.Dispose();
}
