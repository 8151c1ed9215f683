using System.Buffers;
using System.Text;
using Proxy.Answers;
using Proxy.ClientApis;
using Proxy.Config;
using Proxy.Providers.AzureOpenAI;
using Proxy.Providers.Mock;
using Proxy.Providers.OpenAI;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.OpenAI;

/// <summary>OpenAI's Responses API passed through to OpenAI and Azure OpenAI: where it goes, and its stream read on the way.</summary>
public class OpenAiResponsesPassthroughTests
{
    private static readonly ProviderSettings OpenAi = new() { Name = "openai", Type = "openai", BaseUrl = new Uri("https://api.openai.com/v1"), ApiKey = "sk-test" };

    private static ProviderSettings Compatible(string? responsesApi = null) => new()
    {
        Name = "vllm",
        Type = "openai",
        BaseUrl = new Uri("http://vllm.internal:8000/v1"),
        Extra = responsesApi is null ? [] : new Dictionary<string, string> { [OpenAiKind.ResponsesApi] = responsesApi },
    };

    private static ProviderSettings Azure(string apiVersion) => new()
    {
        Name = "azure",
        Type = "azure-openai",
        BaseUrl = new Uri("https://contoso.openai.azure.com/"),
        ApiKey = "azure-key",
        Extra = new Dictionary<string, string> { ["api_version"] = apiVersion },
    };

    private static UpstreamCall ResponsesCall(ProviderSettings settings, string body, string upstreamModel = "gpt-4.1-prod") =>
        Fixture.Call(settings, Encoding.UTF8.GetBytes(body), upstreamModel) with { Api = ResponsesApi.Instance };

    private static OpenAiAdapter Adapter(ProviderSettings settings) => settings.Type == "azure-openai"
        ? new AzureOpenAiAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()), AzureOpenAiSettings.Read(settings, null))
        : new OpenAiAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()));

    [Fact]
    public void OpenAi_SpeaksResponses_CompatibleServersOnlyWhenConfigured_TheMockNever()
    {
        Assert.True(Adapter(OpenAi).Speaks(ApiFormat.OpenAiResponses));
        Assert.False(Adapter(Compatible()).Speaks(ApiFormat.OpenAiResponses));
        Assert.True(Adapter(Compatible("true")).Speaks(ApiFormat.OpenAiResponses));
        Assert.False(Adapter(new ProviderSettings
        {
            Name = "openai", Type = "openai", BaseUrl = OpenAi.BaseUrl, Extra = new Dictionary<string, string> { [OpenAiKind.ResponsesApi] = "false" },
        }).Speaks(ApiFormat.OpenAiResponses));
        Assert.True(Adapter(Azure("2024-10-21")).Speaks(ApiFormat.OpenAiResponses));
        Assert.False(new MockKind().CreateAdapter(new ProviderSettings { Name = "mock", Type = "mock" }).Speaks(ApiFormat.OpenAiResponses));
        Assert.False(Adapter(OpenAi).Speaks(ApiFormat.AnthropicMessages));
    }

    [Fact]
    public void ResponsesApiSetting_MustBeTrueOrFalse()
    {
        var errors = new List<string>();
        new OpenAiKind().Validate(Compatible("yes"), (field, reason) => errors.Add(field + ": " + reason));

        Assert.Equal(["responses_api: 'yes' is not true or false"], errors);
        Assert.Contains(OpenAiKind.ResponsesApi, new OpenAiKind().ExtraFields);
    }

    [Fact]
    public void Request_GoesToResponses_WithOnlyTheModelSpliced()
    {
        using var request = Adapter(OpenAi).BuildRequest(ResponsesCall(OpenAi, """{"model":"gpt-4.1","input":"hi","stream":true}"""));

        Assert.Equal("https://api.openai.com/v1/responses", request.RequestUri!.ToString());
        Assert.Equal("Bearer sk-test", Assert.Single(request.Headers.GetValues("Authorization")));
        // No stream_options: a Responses stream always ends with response.completed and its usage.
        Assert.Equal("""{"model":"gpt-4.1-prod","input":"hi","stream":true}""", Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    [Theory]
    [InlineData("2024-10-21", "https://contoso.openai.azure.com/openai/v1/responses")]
    [InlineData("v1", "https://contoso.openai.azure.com/openai/v1/responses")]
    [InlineData("preview", "https://contoso.openai.azure.com/openai/v1/responses?api-version=preview")]
    public void Azure_Request_GoesToTheV1Responses_WithTheDeploymentAsModel(string apiVersion, string url)
    {
        var azure = Azure(apiVersion);
        using var request = Adapter(azure).BuildRequest(ResponsesCall(azure, """{"model":"gpt-4.1","input":"hi"}"""));

        Assert.Equal(url, request.RequestUri!.ToString());
        Assert.Equal("azure-key", Assert.Single(request.Headers.GetValues("api-key")));
        Assert.Equal("""{"model":"gpt-4.1-prod","input":"hi"}""", Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
    }

    [Fact]
    public void CompatibleServerWithoutIt_GetsTheCanonicalChatRequest()
    {
        // Not spoken: the body is the chat request the client API wrote, and it goes to chat completions.
        var vllm = Compatible();
        using var request = Adapter(vllm).BuildRequest(ResponsesCall(vllm, """{"model":"m","messages":[],"stream":true}"""));

        Assert.Equal("http://vllm.internal:8000/v1/chat/completions", request.RequestUri!.ToString());
        Assert.Equal("""{"model":"gpt-4.1-prod","messages":[],"stream":true,"stream_options":{"include_usage":true}}""",
            Encoding.UTF8.GetString(Fixture.ContentBytes(request)));
        Assert.IsType<DecodingTranscoder>(Adapter(vllm).CreateStreamTranscoder(ResponsesCall(vllm, """{"model":"m","messages":[],"stream":true}""")));
    }

    [Fact]
    public void Stream_PassesThroughByteForByte_WithUsageFromResponseCompleted()
    {
        var stream = Fixture.Bytes("OpenAI", "responses.stream.sse");
        var call = ResponsesCall(OpenAi, """{"model":"gpt-4.1","input":"hi","stream":true}""");

        var (output, state) = Rechunk.EveryOffset(() => Adapter(OpenAi).CreateStreamTranscoder(call), stream);

        Assert.Equal(Encoding.UTF8.GetString(stream), output);
        Assert.True(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal(new Usage { PromptTokens = 2048, CompletionTokens = 9, CachedTokens = 1920, Reported = true }, state.Usage);
    }

    [Fact]
    public void Stream_Incomplete_IsComplete_WithItsUsage()
    {
        var stream = Fixture.Bytes("OpenAI", "responses-incomplete.stream.sse");
        var azure = Azure("v1");

        var (output, state) = Rechunk.EveryOffset(() => Adapter(azure).CreateStreamTranscoder(ResponsesCall(azure, """{"model":"m","input":"x","stream":true}""")), stream);

        Assert.Equal(Encoding.UTF8.GetString(stream), output);
        Assert.True(state.Completed);
        Assert.Equal(new Usage { PromptTokens = 12, CompletionTokens = 16, Reported = true }, state.Usage);
    }

    [Fact]
    public void Stream_ErrorEvent_FailsIt_AfterPassingItOn()
    {
        var stream = Fixture.Bytes("OpenAI", "responses-error.stream.sse");
        var call = ResponsesCall(OpenAi, """{"model":"gpt-4.1","input":"hi","stream":true}""");

        var (output, state) = Rechunk.EveryOffset(() => Adapter(OpenAi).CreateStreamTranscoder(call), stream);

        Assert.Equal(Encoding.UTF8.GetString(stream), output); // the comment and the error event included
        Assert.True(state.Failed);
        Assert.False(state.Completed);
        Assert.False(state.Usage.Reported);
    }

    [Fact]
    public void Stream_ResponseFailed_CompletesItAsFailed()
    {
        var stream = Fixture.Bytes("OpenAI", "responses-failed.stream.sse");
        var call = ResponsesCall(OpenAi, """{"model":"gpt-4.1","input":"hi","stream":true}""");

        var (output, state) = Rechunk.EveryOffset(() => Adapter(OpenAi).CreateStreamTranscoder(call), stream);

        Assert.Equal(Encoding.UTF8.GetString(stream), output);
        Assert.True(state.Completed);
        Assert.True(state.Failed);
    }

    [Fact]
    public void Stream_EventsAfterTheEnd_AreLeftUnread()
    {
        var stream = Encoding.UTF8.GetBytes(Fixture.Text("OpenAI", "responses.stream.sse") + "data: [DONE]\n\n");
        var call = ResponsesCall(OpenAi, """{"model":"gpt-4.1","input":"hi","stream":true}""");

        var (output, state) = Rechunk.EveryOffset(() => Adapter(OpenAi).CreateStreamTranscoder(call), stream);

        Assert.True(state.Completed);
        Assert.Equal(Fixture.Text("OpenAI", "responses.stream.sse"), output);
    }

    [Fact]
    public void PlainAnswer_UsageIsRead()
    {
        var usage = default(Usage);

        Adapter(OpenAi).ReadUsage(Fixture.Bytes("OpenAI", "responses.json"), ref usage);

        Assert.Equal(new Usage { PromptTokens = 2048, CompletionTokens = 9, CachedTokens = 1920, Reported = true }, usage);
    }

    [Fact]
    public void ChatClients_StillPassThroughAsBefore()
    {
        var call = Fixture.Call(OpenAi, """{"model":"gpt-4o","messages":[],"stream":true}"""u8.ToArray(), "gpt-4o");

        Assert.IsType<Proxy.Streaming.OpenAiSseTranscoder>(Adapter(OpenAi).CreateStreamTranscoder(call));
        using var request = Adapter(OpenAi).BuildRequest(call);
        Assert.Equal("https://api.openai.com/v1/chat/completions", request.RequestUri!.ToString());
    }

    /// <summary>A client API that speaks Responses; only its format matters here (its writers come from elsewhere).</summary>
    private sealed class ResponsesApi : ClientApi
    {
        public static readonly ResponsesApi Instance = new();

        public override ApiFormat Format => ApiFormat.OpenAiResponses;

        public override string Name => "responses";

        public override Operation Operation => Operation.ChatCompletions;

        public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
            throw new NotSupportedException();

        public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
            throw new NotSupportedException();

        public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => false;

        public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) => new RecordingAnswerWriter();

        public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) => new RecordingAnswerWriter();
    }
}
