using System.Text;
using System.Text.Json;
using Proxy.Providers.Bedrock.Credentials;
using Proxy.Providers.Bedrock.SigV4;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>AWS's SigV4 test suite (Fixtures/sigv4, see SOURCE.md there): every case, header form.</summary>
public class SigV4VectorTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(BedrockFixtures.Dir, "sigv4")).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vector_CanonicalRequestStringToSignAndSignature_MatchTheSuite(string name)
    {
        var dir = Path.Combine(BedrockFixtures.Dir, "sigv4", name);
        var (request, credentials, scope) = Load(dir);
        var headers = request.Headers.ToArray();
        var description = new SigV4Request
        {
            Method = request.Method,
            Path = request.Path,
            Query = request.Query,
            Headers = headers,
            PayloadHash = request.PayloadHash,
            NormalizePath = request.Normalize,
        };

        var (canonical, stringToSign, signature) = SigV4Signer.Explain(description, credentials, scope);

        Assert.Equal(File.ReadAllText(Path.Combine(dir, "header-canonical-request.txt")), canonical);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "header-string-to-sign.txt")), stringToSign);
        var expected = File.ReadAllText(Path.Combine(dir, "header-signature.txt")).Trim();
        Assert.Equal(expected, signature);
        var authorization = SigV4Signer.Authorization(description, credentials, scope, new SigningKeyCache());
        Assert.EndsWith("Signature=" + expected, authorization, StringComparison.Ordinal);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={credentials.AccessKeyId}/20150830/us-east-1/service/aws4_request, SignedHeaders=", authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void SigningKey_CachedAcrossCalls_GivesTheSameSignature()
    {
        var dir = Path.Combine(BedrockFixtures.Dir, "sigv4", "post-vanilla");
        var (request, credentials, scope) = Load(dir);
        var description = new SigV4Request { Method = request.Method, Path = request.Path, Headers = request.Headers.ToArray(), PayloadHash = request.PayloadHash };
        var cache = new SigningKeyCache();
        var first = SigV4Signer.Authorization(description, credentials, scope, cache);
        var second = SigV4Signer.Authorization(description, credentials, scope, cache);
        Assert.Equal(first, second);
        Assert.EndsWith(File.ReadAllText(Path.Combine(dir, "header-signature.txt")).Trim(), second, StringComparison.Ordinal);
    }

    internal sealed record ParsedRequest(string Method, string Path, string Query, List<SigV4Header> Headers, string PayloadHash, bool Normalize);

    /// <summary>request.txt as the suite writes it (continuation lines fold into the previous header) plus the context.</summary>
    internal static (ParsedRequest Request, AwsCredentials Credentials, SigV4Scope Scope) Load(string dir)
    {
        using var context = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "context.json")));
        var c = context.RootElement;
        var creds = c.GetProperty("credentials");
        var token = creds.TryGetProperty("token", out var t) ? t.GetString() : null;
        var credentials = new AwsCredentials(creds.GetProperty("access_key_id").GetString()!, creds.GetProperty("secret_access_key").GetString()!, token);
        var at = DateTimeOffset.Parse(c.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var scope = new SigV4Scope(c.GetProperty("region").GetString()!, c.GetProperty("service").GetString()!, at);

        var raw = File.ReadAllText(Path.Combine(dir, "request.txt"));
        int blank = raw.IndexOf("\n\n", StringComparison.Ordinal);
        var head = blank < 0 ? raw.TrimEnd('\n') : raw[..blank];
        var body = blank < 0 ? "" : raw[(blank + 2)..];
        var lines = head.Split('\n');
        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(' ')];
        int q = target.IndexOf('?', StringComparison.Ordinal);
        var headers = new List<SigV4Header>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length > 0 && char.IsWhiteSpace(line[0]))
            {
                headers[^1] = headers[^1] with { Value = headers[^1].Value + " " + line };
                continue;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new SigV4Header(line[..colon], line[(colon + 1)..]));
        }
        var payloadHash = SigV4Signer.PayloadHash(Encoding.UTF8.GetBytes(body));
        headers.Add(new SigV4Header("X-Amz-Date", SigV4Signer.AmzDate(at)));
        bool omitToken = c.TryGetProperty("omit_session_token", out var omit) && omit.GetBoolean();
        if (token is not null && !omitToken) headers.Add(new SigV4Header("X-Amz-Security-Token", token));
        if (c.GetProperty("sign_body").GetBoolean()) headers.Add(new SigV4Header("X-Amz-Content-SHA256", payloadHash));
        var request = new ParsedRequest(method, q < 0 ? target : target[..q], q < 0 ? "" : target[(q + 1)..], headers, payloadHash, c.GetProperty("normalize").GetBoolean());
        return (request, credentials, scope);
    }
}
