using System.Net.Http.Headers;
using System.Text;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>Every bad input and every upstream failure gets an OpenAI-shaped error that says what went wrong.</summary>
public sealed class ErrorTests
{
    private const string Chat = "/v1/chat/completions";

    [Fact]
    public async Task MalformedJson_400_MessageSaysLineAndColumn()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, "{\n  \"model\": \"mock-gpt\",\n  \"messages\": [}\n");

        var error = await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", code: "invalid_request_body", messageContains: "not valid JSON");
        Assert.Contains("line 3", Assertions.Message(error), StringComparison.Ordinal);
        Assert.Contains("column 16", Assertions.Message(error), StringComparison.Ordinal);
        Assert.Empty(env.Upstream.Requests);
    }

    [Fact]
    public async Task TrailingDataAfterJson_400()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"mock-gpt","messages":[]} {}""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", code: "invalid_request_body", messageContains: "(line 1, column 36)");
    }

    [Fact]
    public async Task BodyNotAnObject_400()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """["model","mock-gpt"]""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", code: "invalid_request_body", messageContains: "must be a JSON object");
    }

    [Fact]
    public async Task MissingKey_401()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"mock-gpt","messages":[]}""", key: null);

        await Assertions.AssertOpenAiError(response, 401, "authentication_error", code: "missing_api_key", messageContains: "API key");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task BadKey_401_InvalidApiKey()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"mock-gpt","messages":[]}""", key: "sk-gw-not-a-key-we-issued");

        await Assertions.AssertOpenAiError(response, 401, "authentication_error", code: "invalid_api_key", messageContains: "Incorrect API key");
    }

    [Fact]
    public async Task KeyNotAllowedRoute_403()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"gpt-test","messages":[]}""", key: TestKeys.Limited);

        await Assertions.AssertOpenAiError(response, 403, "permission_error", code: "model_not_allowed", param: "model",
            messageContains: "Key 'limited' is not allowed to use model 'gpt-test'");
        Assert.Empty(env.Upstream.Requests);
    }

    [Fact]
    public async Task UnknownModel_404_ModelNotFound()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":"no-such-model","messages":[]}""");

        await Assertions.AssertOpenAiError(response, 404, "not_found_error", code: "model_not_found", param: "model", messageContains: "'no-such-model'");
    }

    [Fact]
    public async Task MissingModel_400_ParamModel()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"messages":[{"role":"user","content":"hi"}]}""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", code: "missing_model", param: "model", messageContains: "model");
    }

    [Fact]
    public async Task ModelNotAString_400_ParamModel()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync(Chat, """{"model":42,"messages":[]}""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", param: "model", messageContains: "'model' must be a string");
    }

    [Fact]
    public async Task BodyOverMax_WithContentLength_413()
    {
        await using var env = await TestEnv.StartAsync();
        var body = "{\"model\":\"mock-gpt\",\"messages\":[],\"user\":\"" + new string('x', 4000) + "\"}";

        using var request = env.Gateway.Request(HttpMethod.Post, Chat, body);
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.NotNull(request.Content!.Headers.ContentLength);
        await Assertions.AssertOpenAiError(response, 413, "invalid_request_error", code: "request_too_large", messageContains: "1024 bytes");
    }

    [Fact]
    public async Task BodyOverMax_Chunked_413()
    {
        await using var env = await TestEnv.StartAsync();
        var body = "{\"model\":\"mock-gpt\",\"messages\":[],\"user\":\"" + new string('x', 4000) + "\"}";

        using var request = env.Gateway.Request(HttpMethod.Post, Chat);
        request.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Null(request.Content.Headers.ContentLength);
        await Assertions.AssertOpenAiError(response, 413, "invalid_request_error", code: "request_too_large", messageContains: "1024 bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BodyFarOverMax_413AnsweredCleanly(bool chunked)
    {
        await using var env = await TestEnv.StartAsync();
        var body = Encoding.UTF8.GetBytes("{\"model\":\"mock-gpt\",\"messages\":[],\"user\":\"" + new string('x', 1 << 20) + "\"}");

        using var request = env.Gateway.Request(HttpMethod.Post, Chat);
        request.Content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = chunked;
        using var response = await env.Gateway.Client.SendAsync(request);

        await Assertions.AssertOpenAiError(response, 413, "invalid_request_error", code: "request_too_large");
    }

    [Fact]
    public async Task EmbeddingsWithStream_400()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/embeddings", """{"model":"mock-gpt","input":"x","stream":true}""");

        await Assertions.AssertOpenAiError(response, 400, "invalid_request_error", param: "stream");
    }

    [Fact]
    public async Task UnknownPath_404_OpenAiShape()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/completions", """{"model":"mock-gpt","prompt":"x"}""");

        await Assertions.AssertOpenAiError(response, 404, "not_found_error", code: "unknown_path", messageContains: "/v1/completions");
    }
}
