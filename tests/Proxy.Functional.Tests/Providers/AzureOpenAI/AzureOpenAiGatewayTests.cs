using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.AzureOpenAI;

/// <summary>
/// The real gateway in front of a fake Azure OpenAI resource (and fake identity endpoints) on loopback, with the
/// official OpenAI .NET SDK as the client.
/// </summary>
public sealed class AzureOpenAiGatewayTests
{
    private static ChatClient Chat(TestEnv env) => new("azure-gpt", new ApiKeyCredential(TestKeys.All), new OpenAIClientOptions
    {
        Endpoint = new Uri(env.Gateway.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(10),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token;

    private static IEnumerable<RecordedRequest> Chats(TestEnv env) => env.Upstream.Requests.Where(r => r.Path.StartsWith("/openai/", StringComparison.Ordinal));

    [Fact]
    public async Task Sdk_CompleteChat_ApiKey_GoesToTheDeployment()
    {
        await using var env = await TestEnv.StartAsync(AzureUpstream.ApiKey);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AzureUpstream.Completion);

        ChatCompletion completion = await Chat(env).CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: Timeout());

        Assert.Equal("Hello from Azure", completion.Content.Single().Text);
        Assert.Equal(11, completion.Usage.TotalTokenCount);
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/openai/deployments/gpt-4o-prod/chat/completions", received.Path);
        Assert.Equal("?api-version=2024-10-21", received.Query);
        Assert.Equal(TestKeys.UpstreamSecret, received.Headers["api-key"]);
        Assert.False(received.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task Sdk_CompleteChatStreaming_ApiKey()
    {
        await using var env = await TestEnv.StartAsync(AzureUpstream.ApiKey);
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, AzureUpstream.Stream);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat(env).CompleteChatStreamingAsync([new UserChatMessage("hello")], cancellationToken: Timeout()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
        }

        Assert.Equal("Hej", text.ToString());
        Assert.Equal(8, usage?.TotalTokenCount);
        using var sent = JsonDocument.Parse((await env.Upstream.FirstRequest()).Body);
        Assert.Equal("gpt-4o-prod", sent.RootElement.GetProperty("model").GetString());
        Assert.True(sent.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task Sdk_ToolCall_ApiKey()
    {
        await using var env = await TestEnv.StartAsync(AzureUpstream.ApiKey);
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AzureUpstream.ToolCompletion);
        var weather = ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));

        ChatCompletion completion = await Chat(env).CompleteChatAsync([new UserChatMessage("Oslo?")], new ChatCompletionOptions { Tools = { weather } }, Timeout());

        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal(("call_az1", "get_weather"), (call.Id, call.FunctionName));
        Assert.Equal("""{"city":"Oslo"}""", call.FunctionArguments.ToString());
        using var sent = JsonDocument.Parse((await env.Upstream.FirstRequest()).Body);
        Assert.Equal("get_weather", sent.RootElement.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task ManagedIdentity_ImdsToken_IsSentAsBearerAndCached()
    {
        await using var env = await TestEnv.StartAsync(url => AzureUpstream.ManagedIdentity(url));
        var azure = new AzureUpstream.Handler(ctx => Upstream.Json(ctx, 200, AzureUpstream.Completion));
        env.Upstream.Handler = azure.HandleAsync;

        await Chat(env).CompleteChatAsync([new UserChatMessage("one")], cancellationToken: Timeout());
        await Chat(env).CompleteChatAsync([new UserChatMessage("two")], cancellationToken: Timeout());

        Assert.Equal(1, azure.TokensIssued);
        var token = env.Upstream.Requests.First(r => r.Path == "/msi/token");
        Assert.Equal("true", token.Headers["Metadata"]);
        Assert.Equal("?api-version=2018-02-01&resource=https%3A%2F%2Fcognitiveservices.azure.com&client_id=mi-client-id", token.Query);
        Assert.All(Chats(env), r =>
        {
            Assert.Equal("Bearer mi-token-1", r.Headers["Authorization"]);
            Assert.False(r.Headers.ContainsKey("api-key"));
        });
        Assert.Equal(2, Chats(env).Count());
    }

    [Fact]
    public async Task ManagedIdentity_AppServiceStyle_SendsTheIdentityHeader()
    {
        await using var env = await TestEnv.StartAsync(url => AzureUpstream.ManagedIdentity(url, identityHeader: "x-identity-secret"));
        var azure = new AzureUpstream.Handler(ctx => Upstream.Json(ctx, 200, AzureUpstream.Completion));
        env.Upstream.Handler = azure.HandleAsync;

        await Chat(env).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Timeout());

        var token = env.Upstream.Requests.First(r => r.Path == "/msi/token");
        Assert.Equal("x-identity-secret", token.Headers["X-IDENTITY-HEADER"]);
        Assert.StartsWith("?api-version=2019-08-01&", token.Query, StringComparison.Ordinal);
        Assert.Equal("Bearer mi-token-1", Chats(env).Single().Headers["Authorization"]);
    }

    [Fact]
    public async Task ClientSecret_TokenFromEntraId_IsSentAsBearer()
    {
        await using var env = await TestEnv.StartAsync(AzureUpstream.ClientSecret);
        var azure = new AzureUpstream.Handler(ctx => Upstream.Sse(ctx, AzureUpstream.Stream));
        env.Upstream.Handler = azure.HandleAsync;

        var text = new StringBuilder();
        await foreach (var update in Chat(env).CompleteChatStreamingAsync([new UserChatMessage("hello")], cancellationToken: Timeout()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        }

        Assert.Equal("Hej", text.ToString());
        var token = env.Upstream.Requests.Single(r => r.Path.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal));
        Assert.Equal($"/login/{AzureUpstream.Tenant}/oauth2/v2.0/token", token.Path);
        Assert.Equal("POST", token.Method);
        var form = token.BodyText.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
        Assert.Equal("client_credentials", form["grant_type"]);
        Assert.Equal(AzureUpstream.AppId, form["client_id"]);
        Assert.Equal(AzureUpstream.AppSecret, form["client_secret"]);
        Assert.Equal("https://cognitiveservices.azure.com/.default", form["scope"]);
        Assert.Equal("Bearer app-token-1", Chats(env).Single().Headers["Authorization"]);
    }

    [Fact]
    public async Task TokenEndpointFailure_Is502NamingIt_WithoutSecrets()
    {
        await using var env = await TestEnv.StartAsync(url => AzureUpstream.ManagedIdentity(url, identityHeader: "x-identity-secret"));
        var azure = new AzureUpstream.Handler(ctx => Upstream.Json(ctx, 200, AzureUpstream.Completion)) { TokenStatus = 400 };
        env.Upstream.Handler = azure.HandleAsync;

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"azure-gpt","messages":[{"role":"user","content":"x"}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("managed identity token request to", body, StringComparison.Ordinal);
        Assert.Contains("Identity not found", body, StringComparison.Ordinal);
        Assert.DoesNotContain("x-identity-secret", body, StringComparison.Ordinal);
        Assert.Empty(Chats(env));
    }

    [Fact]
    public async Task V1Api_PutsTheModelInTheBody()
    {
        await using var env = await TestEnv.StartAsync(url => AzureUpstream.Config(url, $"    api_key: ${{{TestKeys.UpstreamSecretEnvVar}}}", "    api_version: v1"));
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, AzureUpstream.Completion);

        await Chat(env).CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: Timeout());

        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/openai/v1/chat/completions", received.Path);
        Assert.Equal("", received.Query);
        using var sent = JsonDocument.Parse(received.Body);
        Assert.Equal("gpt-4o-prod", sent.RootElement.GetProperty("model").GetString());
    }
}
