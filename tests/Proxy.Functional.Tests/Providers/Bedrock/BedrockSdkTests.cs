using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Providers.Bedrock;

/// <summary>
/// The official OpenAI .NET SDK, unchanged, through the gateway to a fake Bedrock that verifies the SigV4 signature
/// of every request with AWSSDK.Core's signer: plain and streamed answers, tool calls both ways.
/// </summary>
public sealed class BedrockSdkTests
{
    internal static ChatClient Chat(GatewayHost gateway, string route = "claude") => new(route, new ApiKeyCredential(TestKeys.All), new OpenAIClientOptions
    {
        Endpoint = new Uri(gateway.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(20),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    internal static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private static async Task<(FakeBedrock Bedrock, GatewayHost Gateway)> StartAsync(string? credentials = null)
    {
        var bedrock = await FakeBedrock.StartAsync();
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret);
        return (bedrock, await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, credentials ?? BedrockConfig.StaticKeys())));
    }

    [Fact]
    public async Task Sdk_CompleteChat_IsTranslatedSignedAndAnswered()
    {
        var (bedrock, gateway) = await StartAsync();
        await using var bedrockLifetime = bedrock;
        await using var gatewayLifetime = gateway;

        ChatCompletion completion = await Chat(gateway).CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("hello é ✓")],
            new ChatCompletionOptions { MaxOutputTokenCount = 100, Temperature = 0.5f }, Timeout());

        Assert.Equal("Hello from Bedrock", completion.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(BedrockConfig.Model, completion.Model);
        Assert.Equal((11, 4, 15), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount));
        var call = Assert.Single(bedrock.Calls);
        Assert.Equal((BedrockConfig.Model, "converse", BedrockConfig.AccessKeyId), (call.ModelId, call.Operation, call.AccessKeyId));
        Assert.Equal("Be brief.", call.Body.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal("hello é ✓", call.Body.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(100, call.Body.GetProperty("inferenceConfig").GetProperty("maxTokens").GetInt32());
        Assert.Equal(0, bedrock.Rejected);
    }

    [Fact]
    public async Task Sdk_CompleteChatStreaming_ArrivesAsChunks_WithUsage()
    {
        var (bedrock, gateway) = await StartAsync();
        await using var bedrockLifetime = bedrock;
        await using var gatewayLifetime = gateway;

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        int updates = 0;
        await foreach (var update in Chat(gateway).CompleteChatStreamingAsync([new UserChatMessage("hello")], cancellationToken: Timeout()))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal("Hello from Bedrock", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal((11, 3), (usage.InputTokenCount, usage.OutputTokenCount));
        Assert.True(updates >= 5, $"expected one update per event, got {updates}");
        Assert.Equal("converse-stream", Assert.Single(bedrock.Calls).Operation);
    }

    [Fact]
    public async Task Sdk_ToolCall_PlainAnswer_BecomesToolCalls()
    {
        var (bedrock, gateway) = await StartAsync();
        await using var bedrockLifetime = bedrock;
        await using var gatewayLifetime = gateway;
        bedrock.Answer = (call, ctx) => FakeBedrock.Converse(ctx, """
            {"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_abc","name":"get_weather","input":{"city":"Paris"}}}]}},
             "stopReason":"tool_use","usage":{"inputTokens":50,"outputTokens":20,"totalTokens":70},"metrics":{"latencyMs":10}}
            """);
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        options.Tools.Add(WeatherTool());

        ChatCompletion completion = await Chat(gateway).CompleteChatAsync([new UserChatMessage("Weather in Paris?")], options, Timeout());

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var toolCall = Assert.Single(completion.ToolCalls);
        Assert.Equal(("tooluse_abc", "get_weather"), (toolCall.Id, toolCall.FunctionName));
        Assert.Equal("Paris", JsonDocument.Parse(toolCall.FunctionArguments).RootElement.GetProperty("city").GetString());
        var toolConfig = Assert.Single(bedrock.Calls).Body.GetProperty("toolConfig");
        Assert.Equal("get_weather", toolConfig.GetProperty("tools")[0].GetProperty("toolSpec").GetProperty("name").GetString());
        Assert.Equal("string", toolConfig.GetProperty("tools")[0].GetProperty("toolSpec").GetProperty("inputSchema").GetProperty("json")
            .GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.True(toolConfig.GetProperty("toolChoice").TryGetProperty("any", out _));
    }

    [Fact]
    public async Task Sdk_ToolCall_Streamed_FromARecordedBedrockStream()
    {
        var (bedrock, gateway) = await StartAsync();
        await using var bedrockLifetime = bedrock;
        await using var gatewayLifetime = gateway;
        var recorded = Convert.FromBase64String(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Providers", "Bedrock", "bedrock-claude-tool-use.b64")).Trim());
        // The recording goes out in uneven pieces, so frames straddle the gateway's reads.
        bedrock.Answer = (call, ctx) => FakeBedrock.Stream(ctx, recorded.Chunk(97));
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("cosine", "cosine of x", BinaryData.FromString("""{"type":"object","properties":{"x":{"type":"number"}}}""")));

        var text = new StringBuilder();
        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat(gateway).CompleteChatStreamingAsync([new UserChatMessage("cosine of 7?")], options, Timeout()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            foreach (var tool in update.ToolCallUpdates)
            {
                if (tool.ToolCallId is { } id) ids[tool.Index] = id;
                if (tool.FunctionName is { } name) names[tool.Index] = name;
                if (tool.FunctionArgumentsUpdate is { } args && !args.ToMemory().IsEmpty)
                    (arguments.TryGetValue(tool.Index, out var sb) ? sb : arguments[tool.Index] = new StringBuilder()).Append(args.ToString());
            }
            finish ??= update.FinishReason;
        }

        Assert.StartsWith("To calculate the cosine of 7,", text.ToString(), StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("tooluse_QklrEHKjRu6Oc4BQUfy7ZQ", ids[0]);
        Assert.Equal("cosine", names[0]);
        Assert.Equal(7, JsonDocument.Parse(arguments[0].ToString()).RootElement.GetProperty("x").GetInt32());
    }

    [Fact]
    public async Task Sdk_ToolResults_ReachBedrockAsToolUseAndToolResultBlocks()
    {
        var (bedrock, gateway) = await StartAsync();
        await using var bedrockLifetime = bedrock;
        await using var gatewayLifetime = gateway;
        var options = new ChatCompletionOptions();
        options.Tools.Add(WeatherTool());
        List<ChatMessage> messages =
        [
            new UserChatMessage("Weather in Paris?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("tooluse_abc", "get_weather", BinaryData.FromString("""{"city":"Paris"}"""))]),
            new ToolChatMessage("tooluse_abc", "18C and sunny"),
        ];

        ChatCompletion completion = await Chat(gateway).CompleteChatAsync(messages, options, Timeout());

        Assert.Equal("Hello from Bedrock", completion.Content.Single().Text);
        var sent = Assert.Single(bedrock.Calls).Body.GetProperty("messages");
        Assert.Equal(3, sent.GetArrayLength());
        var toolUse = sent[1].GetProperty("content")[0].GetProperty("toolUse");
        Assert.Equal(("tooluse_abc", "get_weather", "Paris"), (toolUse.GetProperty("toolUseId").GetString(), toolUse.GetProperty("name").GetString(),
            toolUse.GetProperty("input").GetProperty("city").GetString()));
        Assert.Equal("user", sent[2].GetProperty("role").GetString());
        var toolResult = sent[2].GetProperty("content")[0].GetProperty("toolResult");
        Assert.Equal("tooluse_abc", toolResult.GetProperty("toolUseId").GetString());
        Assert.Equal("18C and sunny", toolResult.GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Sdk_InferenceProfileArn_IsSignedAsOneEscapedSegment()
    {
        var (bedrock, gateway) = await StartAsync();
        await using var bedrockLifetime = bedrock;
        await using var gatewayLifetime = gateway;

        ChatCompletion completion = await Chat(gateway, "claude-profile").CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Timeout());

        Assert.Equal("Hello from Bedrock", completion.Content.Single().Text);
        Assert.Equal(BedrockConfig.ProfileArn, Assert.Single(bedrock.Calls).ModelId);
        var raw = Assert.Single(bedrock.Calls);
        Assert.Equal(0, bedrock.Rejected);
        Assert.Equal("converse", raw.Operation);
    }

    [Fact]
    public async Task Sdk_SessionKeys_SendAndSignTheSecurityToken()
    {
        var bedrock = await FakeBedrock.StartAsync();
        await using var bedrockLifetime = bedrock;
        bedrock.Accept(BedrockConfig.AccessKeyId, BedrockConfig.Secret, "FwoGZXIvYXdzE+session/token==");
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, BedrockConfig.StaticKeys(sessionToken: "FwoGZXIvYXdzE+session/token==")));

        ChatCompletion completion = await Chat(gateway).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Timeout());

        Assert.Equal("Hello from Bedrock", completion.Content.Single().Text);
        Assert.Equal("FwoGZXIvYXdzE+session/token==", Assert.Single(bedrock.Calls).SessionToken);
    }

    [Fact]
    public async Task Sdk_BedrockApiKey_GoesAsBearerToken()
    {
        var bedrock = await FakeBedrock.StartAsync();
        await using var bedrockLifetime = bedrock;
        bedrock.AcceptApiKey("bedrock-api-key-abc");
        await using var gateway = await GatewayHost.StartAsync(BedrockConfig.For(bedrock.BaseUrl, "    api_key: bedrock-api-key-abc"));

        ChatCompletion completion = await Chat(gateway).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Timeout());

        Assert.Equal("Hello from Bedrock", completion.Content.Single().Text);
        Assert.Equal("bearer", Assert.Single(bedrock.Calls).AccessKeyId);
    }

    internal static ChatTool WeatherTool() => ChatTool.CreateFunctionTool("get_weather", "Current weather",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
}
