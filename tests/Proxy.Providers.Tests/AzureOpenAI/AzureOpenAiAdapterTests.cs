using System.Net;
using System.Text;
using Proxy.Config;
using Proxy.Credentials;
using Proxy.Providers.AzureOpenAI;
using Proxy.Providers.Tests.Common;
using Proxy.Streaming;

namespace Proxy.Providers.Tests.AzureOpenAI;

public class AzureOpenAiAdapterTests
{
    private static ProviderSettings Settings(Dictionary<string, string>? extra = null, string? apiKey = "azure-key-123") => new()
    {
        Name = "azure",
        Type = "azure-openai",
        BaseUrl = new Uri("https://contoso.openai.azure.com/"),
        ApiKey = apiKey,
        Extra = extra ?? [],
    };

    private static (HttpRequestMessage Request, string Body) Build(ProviderSettings settings, string body, string deployment = "gpt-4o-prod",
        Operation operation = Operation.ChatCompletions)
    {
        var adapter = new AzureOpenAiAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()), AzureOpenAiSettings.Read(settings, null));
        var request = adapter.BuildRequest(Fixture.Call(settings, Encoding.UTF8.GetBytes(body), deployment, operation));
        return (request, Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    private static List<string> Errors(ProviderSettings settings)
    {
        var errors = new List<string>();
        AzureOpenAiSettings.Read(settings, (field, reason) => errors.Add(field + ": " + reason));
        return errors;
    }

    [Fact]
    public void Request_GoesToTheDeploymentWithTheDefaultGaApiVersionAndApiKey()
    {
        var (request, body) = Build(Settings(), """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal("https://contoso.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21", request.RequestUri!.ToString());
        Assert.Equal("azure-key-123", Assert.Single(request.Headers.GetValues("api-key")));
        Assert.False(request.Headers.Contains("Authorization"));
        // The OpenAI passthrough: the client's bytes, with the model spliced as the route's upstream model.
        Assert.Equal("""{"model":"gpt-4o-prod","messages":[{"role":"user","content":"hi"}]}""", body);
    }

    [Fact]
    public void Request_Embeddings_GoToTheDeploymentsEmbeddings()
    {
        var (request, _) = Build(Settings(new() { ["api_version"] = "2025-04-01-preview" }), """{"model":"emb","input":"x"}""", "text-embedding-3-small",
            Operation.Embeddings);

        Assert.Equal("https://contoso.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?api-version=2025-04-01-preview",
            request.RequestUri!.ToString());
    }

    [Fact]
    public void Request_DeploymentName_IsEscapedInThePath()
    {
        var (request, _) = Build(Settings(), """{"model":"m","messages":[]}""", "my deployment/1");

        Assert.Equal("/openai/deployments/my%20deployment%2F1/chat/completions", request.RequestUri!.AbsolutePath);
    }

    [Theory]
    [InlineData("v1", "https://contoso.openai.azure.com/openai/v1/chat/completions")]
    [InlineData("preview", "https://contoso.openai.azure.com/openai/v1/chat/completions?api-version=preview")]
    public void Request_V1Api_PutsTheModelInTheBody(string version, string url)
    {
        var (request, body) = Build(Settings(new() { ["api_version"] = version }), """{"model":"gpt-4o","stream":true,"messages":[]}""", "gpt-4o-prod");

        Assert.Equal(url, request.RequestUri!.ToString());
        Assert.Equal("""{"model":"gpt-4o-prod","stream":true,"messages":[],"stream_options":{"include_usage":true}}""", body);
    }

    [Fact]
    public void Request_EntraAuth_SendsNoApiKey()
    {
        var (request, _) = Build(Settings(new() { ["managed_identity"] = "true" }, apiKey: null), """{"model":"m","messages":[]}""");

        Assert.False(request.Headers.Contains("api-key"));
        Assert.False(request.Headers.Contains("Authorization")); // added by the bearer handler in front of the pool
    }

    [Fact]
    public void Errors_AreClassifiedAsForOpenAi()
    {
        var adapter = new AzureOpenAiAdapter(Settings(), new HttpMessageInvoker(new SocketsHttpHandler()), AzureOpenAiSettings.Read(Settings(), null));

        var auth = adapter.ClassifyError(401, """{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}"""u8);
        var filter = adapter.ClassifyError(400, """{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter","status":400}}"""u8);
        var throttled = adapter.ClassifyError(429, """{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded rate limit."}}"""u8);

        Assert.Equal((502, "upstream_auth_failed"), (auth.Status, auth.Code));
        Assert.Contains("Access denied", auth.Message, StringComparison.Ordinal);
        Assert.Equal(400, filter.Status);
        Assert.Equal((429, true), (throttled.Status, throttled.Retryable));
        Assert.True(adapter.Speaks(Proxy.ClientApis.ApiFormat.OpenAiChat));
    }

    [Fact]
    public void Stream_AzureChunksWithFilterResults_PassThroughAtEveryOffset()
    {
        var (output, state) = Rechunk.EveryOffset(() => OpenAiSseTranscoder.For(clientWantsUsage: false), Fixture.Bytes("AzureOpenAI", "stream.sse"));

        Assert.True(state.Completed);
        Assert.Equal(new Usage { PromptTokens = 9, CompletionTokens = 1, CachedTokens = 0, Reported = true }, state.Usage);
        Assert.Contains("prompt_filter_results", output, StringComparison.Ordinal); // what Azure sends, as a direct client would see it
        Assert.DoesNotContain("\"completion_tokens\"", output, StringComparison.Ordinal); // usage chunk stripped: the client did not ask
    }

    [Theory]
    [InlineData(null, null, "api_key: give exactly one way")]
    [InlineData("azure-key", "managed_identity=true", "managed_identity: give exactly one way")]
    [InlineData(null, "client_secret=s", "client_secret: needs tenant_id and client_id")]
    [InlineData(null, "managed_identity=true;identity_header=h", "identity_header: needs identity_endpoint")]
    [InlineData("k", "tenant_id=t", "tenant_id: only used with client_secret")]
    [InlineData("k", "api_version=2024 10 21", "api_version: '2024 10 21' is not an API version")]
    [InlineData(null, "managed_identity=yes", "managed_identity: 'yes' is not true or false")]
    [InlineData(null, "managed_identity=true;identity_endpoint=not a url", "identity_endpoint: 'not a url' is not an absolute http(s) URL")]
    public void Config_Mistakes_AreReported(string? apiKey, string? extra, string expected)
    {
        var fields = (extra ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);

        Assert.Contains(Errors(Settings(fields, apiKey)), e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("k", "", AzureAuth.ApiKey)]
    [InlineData(null, "managed_identity=true;client_id=c", AzureAuth.ManagedIdentity)]
    [InlineData(null, "client_secret=s;tenant_id=t;client_id=c", AzureAuth.ClientSecret)]
    public void Config_EachAuthMode_IsValid(string? apiKey, string extra, AzureAuth auth)
    {
        var fields = extra.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        var settings = Settings(fields, apiKey);

        Assert.Empty(Errors(settings));
        Assert.Equal(auth, AzureOpenAiSettings.Read(settings, null).Auth);
        Assert.DoesNotContain("=s", AzureOpenAiSettings.Read(settings, null).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BearerHandler_AddsTheTokenAndReportsAMissingOneWithoutSecrets()
    {
        var tokens = new StubTokens { Token = "eyJ-token-1" };
        var upstream = new RecordingHandler();
        using var invoker = new HttpMessageInvoker(new EntraBearerHandler(tokens, new HttpMessageInvoker(new SocketsHttpHandler()), upstream));

        using var ok = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "https://contoso.openai.azure.com/x"), CancellationToken.None);
        Assert.Equal("Bearer eyJ-token-1", upstream.Authorization);

        tokens.Failure = new HttpRequestException("managed identity token request to http://169.254.169.254/metadata/identity/oauth2/token failed: HTTP 400");
        var error = await Assert.ThrowsAsync<HttpRequestException>(() =>
            invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "https://contoso.openai.azure.com/x"), CancellationToken.None));
        Assert.Contains("no Microsoft Entra ID token", error.Message, StringComparison.Ordinal);
        Assert.Contains("169.254.169.254", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", error.Message, StringComparison.Ordinal);
    }

    private sealed class StubTokens() : CachedTokenSource(TimeProvider.System)
    {
        public string Token { get; set; } = "";

        public Exception? Failure { get; set; }

        public override string Endpoint => "stub";

        // Expired at once, so every call fetches and sees the current Token or Failure.
        protected override Task<AccessToken> FetchAsync(CancellationToken ct) =>
            Failure is { } e ? Task.FromException<AccessToken>(e) : Task.FromResult(new AccessToken(Token, DateTimeOffset.UtcNow));
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public string? Authorization { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorization = request.Headers.TryGetValues("Authorization", out var v) ? v.Single() : null;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
