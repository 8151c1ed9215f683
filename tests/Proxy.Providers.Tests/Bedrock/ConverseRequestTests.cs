using System.Text;
using Proxy.Providers.Bedrock;

namespace Proxy.Providers.Tests.Bedrock;

/// <summary>An OpenAI request in, the exact Converse request out (Fixtures/converse/request-*.json).</summary>
public class ConverseRequestTests
{
    [Theory]
    [InlineData("plain", "converse")]
    [InlineData("tools", "converse-stream")]
    [InlineData("image", "converse")]
    [InlineData("tool-choice-none", "converse")]
    public void Request_Translates_ToTheConverseFixture(string name, string operation)
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var call = BedrockFixtures.Call(settings, BedrockFixtures.Text($"converse/request-{name}.openai.json"));

        using var request = adapter.BuildRequest(call);

        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal($"https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/{operation}", request.RequestUri!.AbsoluteUri);
        Assert.Equal(BedrockFixtures.Compact(BedrockFixtures.Text($"converse/request-{name}.converse.json")), Body(request));
        Assert.Equal("application/json", request.Content!.Headers.ContentType!.MediaType);
        Assert.Equal(operation == "converse" ? "application/json" : "application/vnd.amazon.eventstream", request.Headers.Accept.Single().MediaType);
        Assert.False(request.Headers.Contains("Authorization")); // signed by the transport, not here
    }

    [Theory]
    [InlineData("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse")]
    [InlineData("arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123",
        "/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/converse")]
    [InlineData("meta.llama3-70b-instruct-v1:0", "/model/meta.llama3-70b-instruct-v1%3A0/converse")]
    public void ModelIds_ProfilesAndArns_AreOneEscapedPathSegment(string model, string path)
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        using var request = adapter.BuildRequest(BedrockFixtures.Call(settings, """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", model));
        Assert.Equal(path, request.RequestUri!.AbsolutePath);
    }

    [Fact]
    public void BaseUrl_ReplacesTheRegionalEndpoint_AndApiKeyGoesAsBearer()
    {
        var settings = BedrockFixtures.Settings(apiKey: "bedrock-api-key-1", baseUrl: new Uri("http://127.0.0.1:9999"));
        var withoutKeys = new Proxy.Config.ProviderSettings
        {
            Name = settings.Name, Type = settings.Type, BaseUrl = settings.BaseUrl, ApiKey = settings.ApiKey,
            Extra = new Dictionary<string, string> { ["region"] = "eu-central-1" },
        };
        using var adapter = BedrockFixtures.Adapter(withoutKeys);
        using var request = adapter.BuildRequest(BedrockFixtures.Call(withoutKeys, """{"model":"m","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal("http://127.0.0.1:9999/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse", request.RequestUri!.AbsoluteUri);
        Assert.Equal("Bearer bedrock-api-key-1", request.Headers.GetValues("Authorization").Single());
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}""",
        "base64 data URL", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,Qk0="}}]}]}""",
        "'image/bmp' is not supported", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}""", "'n' must be 1", "n")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}""",
        "'input_audio' is not supported", "messages[0].content[0].type")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}""",
        "not valid JSON", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}""", "role 'function'", "messages[0].role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "'temperature' must be a number", "temperature")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}""",
        "not one of none, auto, required", "tool_choice")]
    public void Request_ConverseCannotExpress_IsRejectedWithTheReasonAndParam(string body, string reason, string param)
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var rejected = Assert.Throws<CallRejectedException>(() => adapter.BuildRequest(BedrockFixtures.Call(settings, body)));
        Assert.Equal(400, rejected.Failure.Status);
        Assert.Contains(reason, rejected.Message, StringComparison.Ordinal);
        Assert.Equal(param, rejected.Param);
    }

    [Fact]
    public void Embeddings_AreRejected()
    {
        var settings = BedrockFixtures.Settings();
        using var adapter = BedrockFixtures.Adapter(settings);
        var chat = BedrockFixtures.Call(settings, """{"model":"m","input":"x"}""");
        var call = new UpstreamCall(Operation.Embeddings, chat.Body, chat.Facts, chat.Target, chat.RequestId);
        var rejected = Assert.Throws<CallRejectedException>(() => adapter.BuildRequest(call));
        Assert.Contains("chat completions only", rejected.Message, StringComparison.Ordinal);
        Assert.Equal("unsupported_by_provider", rejected.Failure.Code);
    }

    internal static string Body(HttpRequestMessage request) =>
        Encoding.UTF8.GetString(((Proxy.Providers.Bedrock.SigV4.ISignablePayload)request.Content!).Payload.Span);
}
