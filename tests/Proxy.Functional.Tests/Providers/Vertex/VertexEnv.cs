using System.Collections.Concurrent;
using System.Web;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Functional.Tests.Providers.Gemini;
using Proxy.Providers.Tests.Google;

namespace Proxy.Functional.Tests.Providers.Vertex;

/// <summary>
/// A fake Vertex AI, a fake Google token source (an OAuth2 token endpoint named by a service-account key file, or a
/// metadata server), and the gateway configured with a <c>vertex</c> provider <c>vtx</c> pointing at both: for
/// publisher google the route <c>flash</c> (<see cref="GeminiUpstream.Model"/>), for publisher anthropic the route
/// <c>claude-test</c> (<see cref="ClaudeModel"/>).
/// </summary>
internal sealed class VertexEnv : IAsyncDisposable
{
    public const string Project = "test-project";

    /// <summary>A model id as Vertex AI names Claude models: the version after '@'.</summary>
    public const string ClaudeModel = "claude-sonnet-4-5@20250929";

    private VertexEnv(FakeUpstream vertex, FakeUpstream auth, TestServiceAccount? account)
    {
        Vertex = vertex;
        Auth = auth;
        Account = account;
    }

    public FakeUpstream Vertex { get; }

    /// <summary>The token endpoint or the metadata server.</summary>
    public FakeUpstream Auth { get; }

    public TestServiceAccount? Account { get; }

    public GatewayHost Gateway { get; private set; } = null!;

    /// <summary>The token the auth fake hands out on its n-th fetch.</summary>
    public static string Token(int n) => "ya29.test-token-" + n;

    public int Fetches => _fetches;

    private int _fetches;

    /// <summary>Assertions (the JWT is bearer-grant, signed by the key, with the right claims) made in the test, not in the fake.</summary>
    public ConcurrentQueue<string> Assertions { get; } = new();

    public static Task<VertexEnv> StartServiceAccountAsync(string region = "us-central1", string publisher = "google") => StartAsync(region, serviceAccount: true, publisher);

    public static Task<VertexEnv> StartMetadataAsync(string region = "global", string publisher = "google") => StartAsync(region, serviceAccount: false, publisher);

    private static async Task<VertexEnv> StartAsync(string region, bool serviceAccount, string publisher)
    {
        var vertex = await FakeUpstream.StartAsync();
        var auth = await FakeUpstream.StartAsync();
        var origin = new Uri(auth.BaseUrl).GetLeftPart(UriPartial.Authority);
        var account = serviceAccount ? new TestServiceAccount(origin + "/token") : null;
        var env = new VertexEnv(vertex, auth, account);
        auth.Handler = serviceAccount ? env.TokenEndpoint : env.MetadataServer;
        var credentials = serviceAccount ? $"credentials_file: {account!.Path}" : $"metadata_host: {new Uri(origin).Authority}";
        var provider = $$"""
              vtx:
                type: vertex
                project: {{Project}}
                region: {{region}}
                publisher: {{publisher}}
                base_url: {{vertex.BaseUrl}}
                {{credentials}}
                connect_timeout: 2s
                first_byte_timeout: 5s
                idle_timeout: 5s
            """;
        var yaml = publisher == "anthropic" ? GeminiUpstream.Config(provider, "vtx", "claude-test", ClaudeModel) : GeminiUpstream.Config(provider, "vtx");
        try
        {
            env.Gateway = await GatewayHost.StartAsync(yaml);
            return env;
        }
        catch
        {
            await env.DisposeAsync();
            throw;
        }
    }

    /// <summary>The path a Gemini model's method has on the fake Vertex AI.</summary>
    public static string ModelPath(string region, string method) =>
        $"/v1/projects/{Project}/locations/{region}/publishers/google/models/{GeminiUpstream.Model}:{method}";

    /// <summary>The path the Claude model's method has on the fake Vertex AI.</summary>
    public static string ClaudePath(string region, string method) =>
        $"/v1/projects/{Project}/locations/{region}/publishers/anthropic/models/{ClaudeModel}:{method}";

    private async Task TokenEndpoint(HttpContext ctx)
    {
        // FakeUpstream has read the body already; token requests come one at a time, so the last recorded one is this one.
        var form = HttpUtility.ParseQueryString(Auth.Requests.Last().BodyText);
        Assertions.Enqueue(form["assertion"] ?? "");
        if (ctx.Request.Path != "/token" || form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            await Upstream.Json(ctx, 400, """{"error":"unsupported_grant_type","error_description":"wrong path or grant"}""");
            return;
        }
        await Upstream.Json(ctx, 200, $$"""{"access_token":"{{Token(Interlocked.Increment(ref _fetches))}}","expires_in":3599,"token_type":"Bearer"}""");
    }

    private Task MetadataServer(HttpContext ctx)
    {
        if (ctx.Request.Path != "/computeMetadata/v1/instance/service-accounts/default/token" || ctx.Request.Headers["Metadata-Flavor"] != "Google")
            return Upstream.Json(ctx, 403, "{}");
        return Upstream.Json(ctx, 200, $$"""{"access_token":"{{Token(Interlocked.Increment(ref _fetches))}}","expires_in":3599,"token_type":"Bearer"}""");
    }

    /// <summary>Checks every assertion the token endpoint received: RS256 by the key, claims iss/scope/aud/iat/exp.</summary>
    public void VerifyAssertions()
    {
        Assert.NotEmpty(Assertions);
        foreach (var jwt in Assertions)
        {
            var (header, claims) = TestServiceAccount.Verify(jwt, Account!.Rsa);
            Assert.Equal("RS256", header.GetProperty("alg").GetString());
            Assert.Equal(TestServiceAccount.Email, claims.GetProperty("iss").GetString());
            Assert.Equal("https://www.googleapis.com/auth/cloud-platform", claims.GetProperty("scope").GetString());
            Assert.Equal(Account.TokenUri, claims.GetProperty("aud").GetString());
            var iat = claims.GetProperty("iat").GetInt64();
            Assert.InRange(iat, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
            Assert.Equal(iat + 3600, claims.GetProperty("exp").GetInt64());
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null) await Gateway.DisposeAsync();
        await Vertex.DisposeAsync();
        await Auth.DisposeAsync();
        Account?.Dispose();
    }
}
