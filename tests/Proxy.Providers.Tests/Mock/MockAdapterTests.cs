using System.Text;
using Proxy.Providers.Mock;
using static Proxy.Providers.Tests.Mock.MockTestSupport;

namespace Proxy.Providers.Tests.Mock;

/// <summary>The validation's place in the adapter: a refusal before anything is sent, nothing allocated for a valid body.</summary>
public class MockAdapterTests
{
    private const string Realistic =
        """{"model":"mock-gpt","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"https://example.invalid/cat.png","detail":"low"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"cat\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"A cat."}],"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],"temperature":0.7,"top_p":1,"n":1,"max_tokens":64,"presence_penalty":0,"frequency_penalty":0,"stream":false}""";

    [Fact]
    public void ValidBody_BuildsTheInProcessRequest()
    {
        using var adapter = Adapter();
        using var request = adapter.BuildRequest(Call(Realistic));
        Assert.Equal(HttpMethod.Post, request.Method);
    }

    [Fact]
    public void Refusal_IsWrittenInOpenAisShape()
    {
        var e = Refusal("""{"model":"mock-gpt","messages":[]}""");
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        Errors.OpenAiError.Write(output, e.Failure.Message, e.Failure.Type, e.Param, e.Failure.Code);
        Assert.Equal(
            """{"error":{"message":"Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.","type":"invalid_request_error","param":"messages","code":"empty_array"}}""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData(Operation.ChatCompletions, Realistic)]
    [InlineData(Operation.Embeddings, """{"model":"mock-gpt","input":["alpha","beta"],"encoding_format":"float"}""")]
    [InlineData(Operation.Embeddings, """{"model":"mock-gpt","input":[[1,2,3],[4,5]]}""")]
    public void ValidBody_ValidationAllocatesNothing(Operation operation, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Null(MockValidation.Check(operation, bytes)); // JIT warm-up

        long before = GC.GetAllocatedBytesForCurrentThread();
        var fault = MockValidation.Check(operation, bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(fault);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void BodyTheIngressWouldNotPass_IsLeftToTheIngress()
    {
        // Nesting deeper than the ingress allows never gets here; if it did, the mock answers rather than failing the call.
        var deep = $$"""{"model":"mock-gpt","messages":[{"role":"user","content":"hi","x":{{new string('[', 200)}}{{new string(']', 200)}}}]}""";
        Assert.Null(MockValidation.Check(Operation.ChatCompletions, Encoding.UTF8.GetBytes(deep)));
    }
}
