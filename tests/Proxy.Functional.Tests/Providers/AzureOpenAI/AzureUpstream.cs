using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.AzureOpenAI;

/// <summary>
/// Gateway configs for an azure-openai provider whose resource endpoint, managed identity endpoint and Entra ID
/// authority are all the one fake upstream, and a handler that answers each like Azure does.
/// </summary>
internal static class AzureUpstream
{
    public const string Tenant = "contoso.onmicrosoft.com";
    public const string AppId = "11111111-2222-3333-4444-555555555555";
    public const string AppSecret = "app-secret-value~42";

    /// <summary>The fake's root (its BaseUrl ends in /v1; an Azure endpoint has no path).</summary>
    public static string Endpoint(string baseUrl) => baseUrl[..^"/v1".Length];

    public static string Config(string baseUrl, string auth, string extra = "") => $$"""
        providers:
          azure:
            type: azure-openai
            base_url: {{Endpoint(baseUrl)}}
            connect_timeout: 2s
            first_byte_timeout: 5s
            idle_timeout: 5s
        {{auth}}
        {{extra}}
        routes:
          azure-gpt: { provider: azure, model: gpt-4o-prod }
        keys:
          - id: all
            hash: {{TestKeys.Hash(TestKeys.All)}}
        """;

    public static string ApiKey(string baseUrl) => Config(baseUrl, $"    api_key: ${{{TestKeys.UpstreamSecretEnvVar}}}");

    public static string ManagedIdentity(string baseUrl, string? identityHeader = null) => Config(baseUrl,
        $"    managed_identity: true\n    client_id: mi-client-id\n    identity_endpoint: {Endpoint(baseUrl)}/msi/token"
        + (identityHeader is null ? "" : $"\n    identity_header: {identityHeader}"));

    public static string ClientSecret(string baseUrl) => Config(baseUrl,
        $"    tenant_id: {Tenant}\n    client_id: {AppId}\n    client_secret: {AppSecret}\n    authority: {Endpoint(baseUrl)}/login");

    public const string Completion = """{"choices":[{"content_filter_results":{},"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Hello from Azure","refusal":null,"role":"assistant"}}],"created":1700000000,"id":"chatcmpl-az","model":"gpt-4o-2024-11-20","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}],"system_fingerprint":"fp_az","usage":{"completion_tokens":3,"prompt_tokens":8,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":11}}""";

    public const string ToolCompletion = """{"choices":[{"finish_reason":"tool_calls","index":0,"message":{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"city\":\"Oslo\"}","name":"get_weather"},"id":"call_az1","type":"function"}]}}],"created":1700000000,"id":"chatcmpl-az2","model":"gpt-4o-2024-11-20","object":"chat.completion","usage":{"completion_tokens":9,"prompt_tokens":30,"total_tokens":39}}""";

    public static readonly string[] Stream =
    [
        Upstream.Event("""{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"""),
        Upstream.Event("""{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1700000000,"id":"chatcmpl-az3","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","usage":null}"""),
        Upstream.Event("""{"choices":[{"delta":{"content":"Hej"},"finish_reason":null,"index":0}],"created":1700000000,"id":"chatcmpl-az3","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","usage":null}"""),
        Upstream.Event("""{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"created":1700000000,"id":"chatcmpl-az3","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","usage":null}"""),
        Upstream.Event("""{"choices":[],"created":1700000000,"id":"chatcmpl-az3","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","usage":{"completion_tokens":1,"prompt_tokens":7,"total_tokens":8}}"""),
        Upstream.Done,
    ];

    /// <summary>
    /// Answers /msi/token (managed identity) and /login/{tenant}/oauth2/v2.0/token (Entra ID) with numbered tokens,
    /// and everything else with <paramref name="answer"/>; counts the tokens issued.
    /// </summary>
    public sealed class Handler(Func<HttpContext, Task> answer)
    {
        private int _tokens;

        public int TokensIssued => Volatile.Read(ref _tokens);

        public ConcurrentQueue<string> TokenForms { get; } = new();

        public int TokenStatus { get; set; } = 200;

        public async Task HandleAsync(HttpContext ctx)
        {
            var path = ctx.Request.Path.Value ?? "";
            if (path == "/msi/token")
            {
                if (TokenStatus != 200)
                {
                    await Upstream.Json(ctx, TokenStatus, """{"error":"invalid_request","error_description":"Identity not found"}""");
                    return;
                }
                var n = Interlocked.Increment(ref _tokens);
                var expiresOn = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
                await Upstream.Json(ctx, 200,
                    $$"""{"access_token":"mi-token-{{n}}","client_id":"mi-client-id","expires_in":"3599","expires_on":"{{expiresOn}}","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}""");
                return;
            }
            if (path == $"/login/{Tenant}/oauth2/v2.0/token")
            {
                var n = Interlocked.Increment(ref _tokens);
                await Upstream.Json(ctx, 200, $$"""{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"app-token-{{n}}"}""");
                return;
            }
            await answer(ctx);
        }
    }
}
