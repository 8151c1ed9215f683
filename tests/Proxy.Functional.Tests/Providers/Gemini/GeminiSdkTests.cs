using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Gemini;

/// <summary>The official OpenAI .NET SDK through the gateway to a fake Gemini API.</summary>
public sealed class GeminiSdkTests
{
    private static Task<TestEnv> Start() => TestEnv.StartAsync(url => GeminiUpstream.Config(GeminiUpstream.GeminiProvider(url), "gem"));

    [Fact]
    public async Task Sdk_Gemini_Plain()
    {
        await using var env = await Start();
        await GoogleSdkScenarios.PlainAsync(GoogleSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_Gemini_Streaming()
    {
        await using var env = await Start();
        await GoogleSdkScenarios.StreamingAsync(GoogleSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_Gemini_ToolCallRoundTrip()
    {
        await using var env = await Start();
        await GoogleSdkScenarios.ToolCallRoundTripAsync(GoogleSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_Gemini_StreamingToolCalls()
    {
        await using var env = await Start();
        await GoogleSdkScenarios.StreamingToolCallsAsync(GoogleSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_Gemini_Embeddings_BatchEmbedContents()
    {
        await using var env = await Start();
        await GoogleSdkScenarios.EmbeddingsAsync(GoogleSdkScenarios.Embeddings(env.Gateway.BaseUrl), env.Upstream, predict: false);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:batchEmbedContents", env.Upstream.Requests.Single().Path);
    }
}
