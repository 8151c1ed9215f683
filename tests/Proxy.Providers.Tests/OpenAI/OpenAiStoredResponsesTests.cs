using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.Config;
using Proxy.Providers.AzureOpenAI;
using Proxy.Providers.Mock;
using Proxy.Providers.OpenAI;
using Proxy.Providers.Tests.Common;
using Proxy.Streaming;

namespace Proxy.Providers.Tests.OpenAI;

/// <summary>
/// Responses that OpenAI or Azure OpenAI answered and keep: the id a passed-through stream names (response.created), and
/// where a later GET/DELETE for it goes.
/// </summary>
public class OpenAiStoredResponsesTests
{
    private const string FixtureId = "resp_68c0a1b2c3d4e5f60718293a4b5c6d7e";

    private static readonly ProviderSettings OpenAi = new()
    {
        Name = "openai", Type = "openai", BaseUrl = new Uri("https://api.openai.com/v1"), ApiKey = "sk-test",
        Headers = [new("OpenAI-Project", "proj_1")],
    };

    private static ProviderSettings Azure(string apiVersion) => new()
    {
        Name = "azure", Type = "azure-openai", BaseUrl = new Uri("https://contoso.openai.azure.com/"), ApiKey = "azure-key",
        Extra = new Dictionary<string, string> { ["api_version"] = apiVersion },
    };

    private static OpenAiAdapter Adapter(ProviderSettings settings) => settings.Type == "azure-openai"
        ? new AzureOpenAiAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()), AzureOpenAiSettings.Read(settings, null))
        : new OpenAiAdapter(settings, new HttpMessageInvoker(new SocketsHttpHandler()));

    private static (UpstreamCall Call, OpenAiResponsesApi Api) StreamCall(ProviderSettings settings)
    {
        var body = """{"model":"gpt-4.1","input":"hi","stream":true}"""u8.ToArray();
        var api = OpenAiResponsesApi.ForRequest(ResponseRequestFacts.Read(body));
        return (Fixture.Call(settings, body, "gpt-4.1-prod") with { Api = api }, api);
    }

    [Fact]
    public void Stream_NotesTheIdOfResponseCreated_AtEverySplit_PassingEveryByteOn()
    {
        var stream = Fixture.Bytes("OpenAI", "responses.stream.sse");
        var adapter = Adapter(OpenAi);
        var (call, api) = StreamCall(OpenAi);
        for (int offset = 0; offset <= stream.Length; offset++)
        {
            var transcoder = adapter.CreateStreamTranscoder(call);
            Assert.Null(api.UpstreamResponseId); // a new attempt starts with nothing noted
            var (output, state) = Rechunk.SplitAt(transcoder, stream, offset);
            Assert.Equal(Encoding.UTF8.GetString(stream), output);
            Assert.True(state.Completed);
            Assert.Equal(FixtureId, api.UpstreamResponseId);
        }
    }

    [Fact]
    public void Stream_WithoutARequestOfItsOwn_UsesTheSharedTranscoder_AndNotesNothing()
    {
        var body = """{"model":"gpt-4.1","input":"hi","stream":true}"""u8.ToArray();
        var call = Fixture.Call(OpenAi, body, "gpt-4.1-prod") with { Api = Proxy.ClientApis.ClientApi.OpenAiResponses };

        Assert.Same(OpenAiResponsesSseTranscoder.Instance, Adapter(OpenAi).CreateStreamTranscoder(call));
    }

    [Fact]
    public void OpenAi_StoredResponse_GoesToItsResponsesUrl_WithTheProvidersCredentials()
    {
        using var get = Adapter(OpenAi).BuildStoredResponseRequest(HttpMethod.Get, "resp_1", "", new QueryString("?include[]=message.output_text.logprobs"))!;
        using var items = Adapter(OpenAi).BuildStoredResponseRequest(HttpMethod.Get, "resp_1", "/input_items", new QueryString("?limit=5&order=asc"))!;
        using var delete = Adapter(OpenAi).BuildStoredResponseRequest(HttpMethod.Delete, "resp_1", "", QueryString.Empty)!;

        Assert.Equal((HttpMethod.Get, "https://api.openai.com/v1/responses/resp_1?include[]=message.output_text.logprobs"), (get.Method, get.RequestUri!.OriginalString));
        Assert.Equal("https://api.openai.com/v1/responses/resp_1/input_items?limit=5&order=asc", items.RequestUri!.OriginalString);
        Assert.Equal((HttpMethod.Delete, "https://api.openai.com/v1/responses/resp_1"), (delete.Method, delete.RequestUri!.OriginalString));
        Assert.Equal("Bearer sk-test", Assert.Single(get.Headers.GetValues("Authorization")));
        Assert.Equal("proj_1", Assert.Single(delete.Headers.GetValues("OpenAI-Project")));
        Assert.Null(get.Content);
    }

    [Theory]
    [InlineData("2024-10-21", "https://contoso.openai.azure.com/openai/v1/responses/resp_1/input_items?limit=5")]
    [InlineData("v1", "https://contoso.openai.azure.com/openai/v1/responses/resp_1/input_items?limit=5")]
    [InlineData("preview", "https://contoso.openai.azure.com/openai/v1/responses/resp_1/input_items?limit=5&api-version=preview")]
    public void Azure_StoredResponse_GoesToTheV1Responses(string apiVersion, string url)
    {
        using var request = Adapter(Azure(apiVersion)).BuildStoredResponseRequest(HttpMethod.Get, "resp_1", "/input_items", new QueryString("?limit=5"))!;

        Assert.Equal(url, request.RequestUri!.OriginalString);
        Assert.Equal("azure-key", Assert.Single(request.Headers.GetValues("api-key")));
        Assert.False(request.Headers.Contains("Authorization"));
    }

    [Fact]
    public void ProvidersWithoutTheResponsesApi_KeepNone()
    {
        var vllm = new ProviderSettings { Name = "vllm", Type = "openai", BaseUrl = new Uri("http://vllm.internal:8000/v1") };

        Assert.Null(Adapter(vllm).BuildStoredResponseRequest(HttpMethod.Get, "resp_1", "", QueryString.Empty));
        Assert.Null(new MockKind().CreateAdapter(new ProviderSettings { Name = "mock", Type = "mock" })
            .BuildStoredResponseRequest(HttpMethod.Get, "resp_1", "", QueryString.Empty));
    }
}
