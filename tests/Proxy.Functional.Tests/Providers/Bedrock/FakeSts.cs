using System.Collections.Concurrent;
using System.Globalization;
using System.Web;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Bedrock;

/// <summary>Temporary credentials as STS issues them.</summary>
public sealed record IssuedCredentials(string AccessKeyId, string SecretAccessKey, string SessionToken, DateTimeOffset Expiration);

/// <summary>
/// A fake STS on loopback answering AssumeRoleWithWebIdentity in STS's query-protocol XML. <see cref="Issue"/> decides
/// what the n-th call (1-based) gets; every call's form parameters are recorded.
/// </summary>
public sealed class FakeSts : IAsyncDisposable
{
    private readonly FakeUpstream _upstream;
    private readonly ConcurrentQueue<Dictionary<string, string>> _calls = new();
    private int _count;

    private FakeSts(FakeUpstream upstream)
    {
        _upstream = upstream;
        upstream.Handler = HandleAsync;
    }

    /// <summary>The credentials for call n; null answers with STS's AccessDenied error.</summary>
    public Func<int, IssuedCredentials?> Issue { get; set; } = n => Session(n, TimeSpan.FromHours(1));

    /// <summary>http://127.0.0.1:PORT, for the provider's sts_endpoint.</summary>
    public string Endpoint => _upstream.BaseUrl[..^"/v1".Length];

    public IReadOnlyCollection<Dictionary<string, string>> Calls => _calls;

    public static async Task<FakeSts> StartAsync() => new(await FakeUpstream.StartAsync());

    /// <summary>ASIA{n}, secret-{n}, token-{n}, expiring after <paramref name="lifetime"/>.</summary>
    public static IssuedCredentials Session(int n, TimeSpan lifetime) =>
        new($"ASIAFAKE{n:D4}", $"sts-secret-{n}", $"sts-session-token-{n}", DateTimeOffset.UtcNow + lifetime);

    private async Task HandleAsync(HttpContext ctx)
    {
        var form = HttpUtility.ParseQueryString(System.Text.Encoding.UTF8.GetString(FakeUpstream.Recorded(ctx).Body));
        var call = form.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => form[k]!);
        _calls.Enqueue(call);
        int n = Interlocked.Increment(ref _count);
        ctx.Response.ContentType = "text/xml";
        if (call.GetValueOrDefault("Action") != "AssumeRoleWithWebIdentity" || Issue(n) is not { } issued)
        {
            ctx.Response.StatusCode = 403;
            await ctx.Response.WriteAsync(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code>" +
                "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>");
            return;
        }
        await ctx.Response.WriteAsync(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult>" +
            $"<Credentials><AccessKeyId>{issued.AccessKeyId}</AccessKeyId><SecretAccessKey>{issued.SecretAccessKey}</SecretAccessKey>" +
            $"<SessionToken>{issued.SessionToken}</SessionToken><Expiration>{issued.Expiration.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}</Expiration></Credentials>" +
            $"<SubjectFromWebIdentityToken>system:serviceaccount:ai:gateway</SubjectFromWebIdentityToken>" +
            $"<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/bedrock-caller/{call.GetValueOrDefault("RoleSessionName")}</Arn>" +
            "<AssumedRoleId>AROAEXAMPLE:gateway</AssumedRoleId></AssumedRoleUser><Provider>oidc.eks.us-east-1.amazonaws.com</Provider>" +
            "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>fake-2</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>");
    }

    public ValueTask DisposeAsync() => _upstream.DisposeAsync();
}
