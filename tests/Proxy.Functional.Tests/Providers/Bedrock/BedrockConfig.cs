using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Bedrock;

/// <summary>Gateway configs with one bedrock provider pointed at the fake.</summary>
public static class BedrockConfig
{
    public const string Model = "anthropic.claude-3-5-sonnet-20240620-v1:0";

    /// <summary>A model that is not Claude: Anthropic clients reach it through Converse (Claude models pass through InvokeModel).</summary>
    public const string NonClaudeModel = "amazon.nova-pro-v1:0";
    public const string ProfileArn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0";
    public const string AccessKeyId = "AKIDFUNCTIONAL0001";
    public const string Secret = "functional/Secret+Key0000000000000000000";

    /// <summary><paramref name="credentials"/> are the provider's credential lines, indented four spaces.</summary>
    public static string For(string bedrockBaseUrl, string credentials) => $$"""
        providers:
          bedrock:
            type: bedrock
            base_url: {{bedrockBaseUrl}}
            region: us-east-1
        {{credentials}}
            connect_timeout: 2s
            first_byte_timeout: 15s
            idle_timeout: 10s
        routes:
          claude: { provider: bedrock, model: "{{Model}}" }
          claude-profile: { provider: bedrock, model: "{{ProfileArn}}" }
          nova: { provider: bedrock, model: "{{NonClaudeModel}}" }
        keys:
          - id: all
            hash: {{TestKeys.Hash(TestKeys.All)}}
        """;

    public static string StaticKeys(string secret = Secret, string? sessionToken = null) =>
        $"    access_key_id: {AccessKeyId}\n    secret_access_key: \"{secret}\"" + (sessionToken is null ? "" : $"\n    session_token: \"{sessionToken}\"");
}
