using System.Text;
using Proxy.Config;
using Proxy.Providers.Bedrock;
using Proxy.Providers.Bedrock.Credentials;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>The bedrock provider's config: fields, mistakes reported by line, and where credentials come from.</summary>
public class BedrockConfigTests
{
    private static GatewayConfig Parse(string provider, Dictionary<string, string>? env = null)
    {
        env ??= [];
        var yaml = $"""
            providers:
              bedrock:
                type: bedrock
            {provider}
            routes:
              claude:
                provider: bedrock
                model: anthropic.claude-3-5-sonnet-20240620-v1:0
            """;
        return new ConfigLoader([new BedrockKind(env.GetValueOrDefault)]).Parse(Encoding.UTF8.GetBytes(yaml), "gateway.yaml",
            new SecretResolver("/nonexistent", env.GetValueOrDefault));
    }

    private static string Invalid(string provider, Dictionary<string, string>? env = null) => Assert.Throws<ConfigException>(() => Parse(provider, env)).Message;

    [Fact]
    public void StaticKeys_FromEnvironmentReferences_AreValid()
    {
        var config = Parse("""
                region: eu-west-1
                access_key_id: ${KEY_ID}
                secret_access_key: ${SECRET}
                session_token: ${TOKEN}
            """, new() { ["KEY_ID"] = "AKIA1", ["SECRET"] = "s", ["TOKEN"] = "t" });
        var settings = BedrockSettings.Read(config.Providers["bedrock"], null);
        Assert.Equal(("eu-west-1", "AKIA1", "t"), (settings.Region, settings.AccessKeyId, settings.SessionToken));
        Assert.Equal(new Uri("https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse"), Url(config));
    }

    [Fact]
    public void NoCredentialsAnywhere_IsAConfigErrorNamingTheOptions()
    {
        var message = Invalid("    region: us-east-1");
        Assert.Contains("providers.bedrock.access_key_id: no AWS credentials", message, StringComparison.Ordinal);
        Assert.Contains("AWS_WEB_IDENTITY_TOKEN_FILE", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    access_key_id: A\n    secret_access_key: S", "providers.bedrock.region: required")]
    [InlineData("    region: Europe\n    access_key_id: A\n    secret_access_key: S", "is not an AWS region name")]
    [InlineData("    region: us-east-1\n    access_key_id: A", "access_key_id and secret_access_key go together")]
    [InlineData("    region: us-east-1\n    role_arn: arn:aws:iam::1:role/r", "role_arn and web_identity_token_file go together")]
    [InlineData("    region: us-east-1\n    role_arn: arn:aws:iam::1:role/r\n    web_identity_token_file: token", "must be an absolute path")]
    [InlineData("    region: us-east-1\n    api_key: k\n    access_key_id: A\n    secret_access_key: S", "a Bedrock API key replaces AWS credentials")]
    [InlineData("    region: us-east-1\n    access_key_id: A\n    secret_access_key: S\n    sts_endpoint: not a url", "is not an absolute http(s) URL")]
    [InlineData("    region: us-east-1\n    acces_key_id: A", "unknown field 'acces_key_id'")]
    public void Mistakes_AreReportedWithTheField(string provider, string expected)
    {
        Assert.Contains(expected, Invalid(provider), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AWS_ACCESS_KEY_ID=A,AWS_SECRET_ACCESS_KEY=S", "static keys from the environment")]
    [InlineData("AWS_ACCESS_KEY_ID=A,AWS_SECRET_ACCESS_KEY=S,AWS_SESSION_TOKEN=T", "session keys from the environment")]
    [InlineData("AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token,AWS_ROLE_ARN=arn:aws:iam::1:role/r",
        "web identity from the environment (role arn:aws:iam::1:role/r)")]
    [InlineData("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x", "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)")]
    [InlineData("AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials", "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)")]
    public void Environment_IsReadInTheSdkOrder(string variables, string expected)
    {
        var env = variables.Split(',').Select(v => v.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(expected, CredentialChain.Describe(new BedrockSettings { Region = "us-east-1" }, env.GetValueOrDefault, out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public async Task ConfigKeys_WinOverTheEnvironment()
    {
        var settings = new BedrockSettings { Region = "us-east-1", AccessKeyId = "A", SecretAccessKey = "S" };
        Assert.Equal("static keys from the config", CredentialChain.Describe(settings, _ => "from-env", out _));
        var source = CredentialChain.Create(settings, _ => "from-env", null);
        var keys = await source.GetAsync(CancellationToken.None);
        Assert.Equal("A", keys.AccessKeyId);
        Assert.DoesNotContain("S", keys.ToString()!.Replace("AwsCredentials", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void ContainerFullUri_OnAPublicHttpHost_IsRefused()
    {
        Assert.Null(CredentialChain.Describe(new BedrockSettings { Region = "us-east-1" },
            n => n == "AWS_CONTAINER_CREDENTIALS_FULL_URI" ? "http://example.com/creds" : null, out var missing));
        Assert.Contains("https, loopback, or the ECS/EKS container host", missing, StringComparison.Ordinal);
    }

    [Fact]
    public void ApiKey_AloneIsEnough()
    {
        var config = Parse("    region: us-east-1\n    api_key: bedrock-key");
        Assert.Equal("bedrock-key", config.Providers["bedrock"].ApiKey);
    }

    private static Uri Url(GatewayConfig config)
    {
        var p = config.Providers["bedrock"];
        var call = BedrockFixtures.Call(p, """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", "m");
        using var request = p.Adapter.BuildRequest(call);
        return request.RequestUri!;
    }
}
