using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Anthropic;

/// <summary>The official OpenAI .NET SDK, unchanged, talking to Claude through the gateway (fake Anthropic upstream).</summary>
public sealed class AnthropicSdkTests
{
    [Fact]
    public async Task Sdk_CompleteChat_Anthropic()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);

        await AnthropicSdkScenarios.PlainAsync(AnthropicSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_CompleteChatStreaming_Anthropic_TextAndUsage()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);

        await AnthropicSdkScenarios.StreamingAsync(AnthropicSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_ToolCall_Anthropic_RoundTrip()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);

        await AnthropicSdkScenarios.ToolCallRoundTripAsync(AnthropicSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }

    [Fact]
    public async Task Sdk_ToolCallStreaming_Anthropic()
    {
        await using var env = await TestEnv.StartAsync(AnthropicUpstream.Config);

        await AnthropicSdkScenarios.StreamingToolCallsAsync(AnthropicSdkScenarios.Chat(env.Gateway.BaseUrl), env.Upstream);
    }
}
