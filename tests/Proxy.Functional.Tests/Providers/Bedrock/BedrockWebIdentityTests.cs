using System.Net;
using OpenAI.Chat;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Bedrock;

/// <summary>
/// Web identity (EKS IRSA) end to end: the gateway reads the projected token file, exchanges it with a fake STS
/// (AssumeRoleWithWebIdentity), signs Bedrock calls with the session keys (checked by the fake Bedrock), refreshes
/// them before they expire with one STS call at a time, and picks up a rotated token file.
/// </summary>
public sealed class BedrockWebIdentityTests : IAsyncLifetime
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/bedrock-caller";
    private readonly string _tokenFile = Path.Combine(Path.GetTempPath(), $"proxy-irsa-{Guid.NewGuid():N}.jwt");
    private FakeBedrock _bedrock = null!;
    private FakeSts _sts = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_tokenFile, "eyJhbGciOiJSUzI1NiJ9.first-token.sig\n");
        _bedrock = await FakeBedrock.StartAsync();
        _sts = await FakeSts.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _bedrock.DisposeAsync();
        await _sts.DisposeAsync();
        File.Delete(_tokenFile);
    }

    private Task<GatewayHost> GatewayAsync() => GatewayHost.StartAsync(BedrockConfig.For(_bedrock.BaseUrl, $"""
            role_arn: {RoleArn}
            web_identity_token_file: {_tokenFile}
            role_session_name: gateway-test
            sts_endpoint: {_sts.Endpoint}
        """));

    /// <summary>Lets the fake Bedrock accept whatever the fake STS hands out.</summary>
    private void AcceptIssued(Func<int, TimeSpan> lifetime) => _sts.Issue = n =>
    {
        var issued = FakeSts.Session(n, lifetime(n));
        _bedrock.Accept(issued.AccessKeyId, issued.SecretAccessKey, issued.SessionToken);
        return issued;
    };

    [Fact]
    public async Task FirstRequests_ExchangeTheTokenOnce_AndAreSignedWithTheSessionKeys()
    {
        AcceptIssued(_ => TimeSpan.FromHours(1));
        await using var gateway = await GatewayAsync();
        var chat = BedrockSdkTests.Chat(gateway);

        // Eight calls at once: one STS exchange serves them all.
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: BedrockSdkTests.Timeout())));

        Assert.All(answers, a => Assert.Equal("Hello from Bedrock", a.Value.Content.Single().Text));
        var exchange = Assert.Single(_sts.Calls);
        Assert.Equal("AssumeRoleWithWebIdentity", exchange["Action"]);
        Assert.Equal(RoleArn, exchange["RoleArn"]);
        Assert.Equal("gateway-test", exchange["RoleSessionName"]);
        Assert.Equal("eyJhbGciOiJSUzI1NiJ9.first-token.sig", exchange["WebIdentityToken"].Trim());
        Assert.Equal(8, _bedrock.Calls.Count);
        Assert.All(_bedrock.Calls, c => Assert.Equal(("ASIAFAKE0001", "sts-session-token-1"), (c.AccessKeyId, c.SessionToken)));
        Assert.Equal(0, _bedrock.Rejected);
    }

    [Fact]
    public async Task NearExpiry_KeysAreRefreshedBeforeTheyExpire_OnceAndWithTheRotatedToken()
    {
        // The SDK refreshes in the background once the keys are within 15 minutes (plus its 1 minute buffer) of expiry.
        // The first keys enter that window 3 s after they are issued; the second ones last an hour.
        AcceptIssued(n => n == 1 ? TimeSpan.FromMinutes(16) + TimeSpan.FromSeconds(3) : TimeSpan.FromHours(1));
        await using var gateway = await GatewayAsync();
        var chat = BedrockSdkTests.Chat(gateway);

        await chat.CompleteChatAsync([new UserChatMessage("first")], cancellationToken: BedrockSdkTests.Timeout());
        Assert.Equal("ASIAFAKE0001", _bedrock.Calls.Last().AccessKeyId);
        // Kubernetes rotates the projected token; the refresh must read the file again.
        await File.WriteAllTextAsync(_tokenFile, "eyJhbGciOiJSUzI1NiJ9.rotated-token.sig\n");
        await Task.Delay(TimeSpan.FromSeconds(4));

        // Still-valid keys keep serving while one background refresh runs.
        var during = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => chat.CompleteChatAsync([new UserChatMessage("during")], cancellationToken: BedrockSdkTests.Timeout())));
        Assert.All(during, a => Assert.Equal("Hello from Bedrock", a.Value.Content.Single().Text));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_sts.Calls.Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(2, _sts.Calls.Count);
        Assert.Equal("eyJhbGciOiJSUzI1NiJ9.rotated-token.sig", _sts.Calls.Last()["WebIdentityToken"].Trim());

        await Task.Delay(200); // the refreshed state is published right after STS answers
        await chat.CompleteChatAsync([new UserChatMessage("after")], cancellationToken: BedrockSdkTests.Timeout());
        Assert.Equal(("ASIAFAKE0002", "sts-session-token-2"), (_bedrock.Calls.Last().AccessKeyId, _bedrock.Calls.Last().SessionToken));
        Assert.Equal(2, _sts.Calls.Count);
        Assert.Equal(0, _bedrock.Rejected);
    }

    [Fact]
    public async Task StsRefuses_ClientGets502UpstreamAuthFailed_WithStsReason()
    {
        _sts.Issue = _ => null;
        await using var gateway = await GatewayAsync();

        using var response = await gateway.PostAsync("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await BedrockErrorTests.Error(response);
        Assert.Equal("upstream_auth_failed", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("could not get AWS credentials", message, StringComparison.Ordinal);
        Assert.Contains("Not authorized to perform sts:AssumeRoleWithWebIdentity", message, StringComparison.Ordinal);
        Assert.DoesNotContain("first-token", message, StringComparison.Ordinal);
        Assert.Empty(_bedrock.Calls);
    }
}
