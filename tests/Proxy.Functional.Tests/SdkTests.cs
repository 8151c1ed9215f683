using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>The official OpenAI .NET SDK, unchanged, pointed at the gateway.</summary>
public sealed class SdkTests
{
    private static OpenAIClientOptions Options(TestEnv env) => new()
    {
        Endpoint = new Uri(env.Gateway.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(10),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    private static ChatClient Chat(TestEnv env, string model, string key = TestKeys.All) => new(model, new ApiKeyCredential(key), Options(env));

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token;

    [Fact]
    public async Task Sdk_CompleteChat_Mock()
    {
        await using var env = await TestEnv.StartAsync();

        ChatCompletion completion = await Chat(env, "mock-gpt").CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: Timeout());

        Assert.Equal(MockTests.FiveTokens, completion.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("mock-1", completion.Model);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + 5, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Sdk_CompleteChat_FakeUpstream()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);

        ChatCompletion completion = await Chat(env, "gpt-test").CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: Timeout());

        Assert.Equal("Hello from upstream é ✓", completion.Content.Single().Text);
        Assert.Equal(13, completion.Usage.TotalTokenCount);
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("Bearer " + TestKeys.UpstreamSecret, received.Headers["Authorization"]);
        using var sent = JsonDocument.Parse(received.Body);
        Assert.Equal("upstream-model", sent.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Sdk_CompleteChatStreaming_Mock_TextAndUsage()
    {
        await using var env = await TestEnv.StartAsync();

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat(env, "mock-gpt").CompleteChatStreamingAsync([new UserChatMessage("hello")], cancellationToken: Timeout()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(MockTests.FiveTokens, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        // The SDK asks for stream usage itself; the gateway must then pass the usage chunk on.
        Assert.NotNull(usage);
        Assert.Equal(5, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Sdk_CompleteChatStreaming_FakeUpstream()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Sse(ctx, Upstream.FullStream);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat(env, "gpt-test").CompleteChatStreamingAsync([new UserChatMessage("hello")], cancellationToken: Timeout()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
        }

        Assert.Equal("Hello", text.ToString());
        var received = await env.Upstream.FirstRequest();
        using var sent = JsonDocument.Parse(received.Body);
        Assert.Equal("upstream-model", sent.RootElement.GetProperty("model").GetString());
        Assert.True(sent.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(11, usage?.TotalTokenCount);
    }

    [Fact]
    public async Task Sdk_Streaming_UpstreamFailsMidway_EnumeratorThrows()
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = async ctx =>
        {
            await Upstream.Sse(ctx, Upstream.Event(Upstream.RoleChunk), Upstream.Event(Upstream.Chunk("Hel")));
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
        };

        var text = new StringBuilder();
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in Chat(env, "gpt-test").CompleteChatStreamingAsync([new UserChatMessage("hello")], cancellationToken: Timeout()))
            {
                foreach (var part in update.ContentUpdate) text.Append(part.Text);
            }
        });

        Assert.Equal("Hel", text.ToString());
        Assert.NotNull(error);
        Assert.IsNotType<OperationCanceledException>(error);
    }

    [Fact]
    public async Task Sdk_Embeddings_Mock_SingleAndBatch()
    {
        await using var env = await TestEnv.StartAsync();
        var client = new EmbeddingClient("mock-gpt", new ApiKeyCredential(TestKeys.All), Options(env));

        OpenAIEmbedding one = await client.GenerateEmbeddingAsync("alpha", cancellationToken: Timeout());
        OpenAIEmbeddingCollection many = await client.GenerateEmbeddingsAsync(["alpha", "beta"], cancellationToken: Timeout());

        var vector = one.ToFloats().ToArray();
        Assert.Equal(8, vector.Length);
        Assert.InRange(Math.Sqrt(vector.Sum(x => (double)x * x)), 0.999, 1.001);
        Assert.Equal(2, many.Count);
        Assert.Equal(vector, many[0].ToFloats().ToArray());
        Assert.NotEqual(vector, many[1].ToFloats().ToArray());
    }

    [Fact]
    public async Task Sdk_Embeddings_FakeUpstream_Base64PassedThrough()
    {
        await using var env = await TestEnv.StartAsync();
        float[] expected = [0.5f, -0.25f, 0.125f];
        var b64 = Convert.ToBase64String(expected.SelectMany(BitConverter.GetBytes).ToArray());
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200,
            $$$"""{"object":"list","data":[{"object":"embedding","index":0,"embedding":"{{{b64}}}"}],"model":"upstream-model","usage":{"prompt_tokens":1,"total_tokens":1}}""");
        var client = new EmbeddingClient("gpt-test", new ApiKeyCredential(TestKeys.All), Options(env));

        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("alpha", cancellationToken: Timeout());

        Assert.Equal(expected, embedding.ToFloats().ToArray());
        var received = await env.Upstream.FirstRequest();
        Assert.Equal("/v1/embeddings", received.Path);
        using var sent = JsonDocument.Parse(received.Body);
        Assert.Equal("upstream-model", sent.RootElement.GetProperty("model").GetString());
        Assert.Equal("base64", sent.RootElement.GetProperty("encoding_format").GetString());
    }

    [Fact]
    public async Task Sdk_Models_ListAndGet()
    {
        await using var env = await TestEnv.StartAsync();
        var client = new OpenAIModelClient(new ApiKeyCredential(TestKeys.Limited), Options(env));

        OpenAIModelCollection models = await client.GetModelsAsync(Timeout());
        OpenAIModel model = await client.GetModelAsync("mock-gpt", Timeout());

        Assert.Equal(["mock-gpt"], models.Select(m => m.Id));
        Assert.Equal("mock-gpt", model.Id);
        Assert.Equal("mock", model.OwnedBy);
        var notAllowed = await Assert.ThrowsAsync<ClientResultException>(() => client.GetModelAsync("gpt-test", Timeout()));
        Assert.Equal(404, notAllowed.Status);
    }

    [Fact]
    public async Task Sdk_GetModel_RouteNameWithSlash()
    {
        await using var env = await TestEnv.StartAsync(url => TestConfig.Standard(url, ModelsAndHealthTests.SlashRoute));
        var client = new OpenAIModelClient(new ApiKeyCredential(TestKeys.All), Options(env));

        OpenAIModel model = await client.GetModelAsync("meta-llama/Llama-3-8B", Timeout());

        Assert.Equal("meta-llama/Llama-3-8B", model.Id);
    }

    [Fact]
    public async Task Sdk_BadKey_ClientResultException401()
    {
        await using var env = await TestEnv.StartAsync();

        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            Chat(env, "mock-gpt", "sk-gw-wrong").CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: Timeout()));

        Assert.Equal(401, error.Status);
        Assert.Contains("invalid_api_key", error.Message, StringComparison.Ordinal);
    }
}
