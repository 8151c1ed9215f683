using Proxy.Providers.Gemini;
using Proxy.Providers.Vertex;

namespace Proxy.Providers.Tests.Vertex;

/// <summary>Where requests go: the Gemini API by model name, Vertex AI by project, region and publisher.</summary>
public class VertexEndpointTests
{
    [Theory]
    [InlineData("us-central1", false, "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent")]
    [InlineData("europe-west4", true, "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse")]
    [InlineData("global", false, "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-flash:generateContent")]
    [InlineData("us", false, "https://aiplatform.us.rep.googleapis.com/v1/projects/my-proj/locations/us/publishers/google/models/gemini-2.5-flash:generateContent")]
    public void Vertex_DefaultBase_IsTheRegionsHostTheMultiRegionsOrTheGlobalOne(string region, bool stream, string expected)
    {
        var endpoint = new VertexGeminiEndpoint(new VertexLocation(VertexLocation.GlobalBaseUrl, "my-proj", region));

        Assert.Equal(expected, endpoint.Generate("gemini-2.5-flash", stream).ToString());
    }

    [Fact]
    public void Vertex_BaseUrlOverride_KeepsThePath()
    {
        var location = new VertexLocation(new Uri("http://127.0.0.1:9999/v1"), "p", "us-east5");

        Assert.Equal("http://127.0.0.1:9999/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict",
            location.ModelUrl("anthropic", "claude-sonnet-4@20250514", "streamRawPredict").ToString());
    }

    [Fact]
    public void Vertex_FullResourceName_IsUsedAsItIs()
    {
        var location = new VertexLocation(VertexLocation.GlobalBaseUrl, "p", "us-central1");

        Assert.Equal("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/123:generateContent",
            location.ModelUrl("google", "projects/p/locations/us-central1/endpoints/123", "generateContent").ToString());
    }

    [Theory]
    [InlineData("gemini-2.5-flash", false, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")]
    [InlineData("models/gemini-2.5-pro", true, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse")]
    [InlineData("tunedModels/my-tune", false, "https://generativelanguage.googleapis.com/v1beta/tunedModels/my-tune:generateContent")]
    public void Gemini_ModelPath_AndTheKeyOnlyInAHeader(string model, bool stream, string expected)
    {
        var endpoint = new GeminiApiEndpoint(new Uri("https://generativelanguage.googleapis.com/v1beta"), "AIza-secret");
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Generate(model, stream));
        endpoint.Authorize(request);

        Assert.Equal(expected, request.RequestUri!.ToString());
        Assert.DoesNotContain("AIza", request.RequestUri.ToString(), StringComparison.Ordinal);
        Assert.Equal("AIza-secret", Assert.Single(request.Headers.GetValues("x-goog-api-key")));
    }
}
