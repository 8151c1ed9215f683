using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.ClientApis;
using Proxy.ClientApis.OpenAiResponses;
using Proxy.Ingress;
using Proxy.Providers;
using static Proxy.Core.Tests.ClientApis.OpenAiResponses.ResponseEvents;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class OpenAiResponsesApiTests
{
    private static UpstreamCall CallFor(string canonicalBody, ClientApi api)
    {
        var body = Encoding.UTF8.GetBytes(canonicalBody);
        Assert.Null(RequestPeeker.TryPeek(body, out var facts));
        return new UpstreamCall(Operation.ChatCompletions, body, facts, null!, "req_0011") { Api = api };
    }

    [Fact]
    public void SharedInstance_DescribesTheApi()
    {
        var api = ClientApi.OpenAiResponses;
        Assert.Equal(ApiFormat.OpenAiResponses, api.Format);
        Assert.Equal("responses", api.Name);
        Assert.Equal(Operation.ChatCompletions, api.Operation);
        Assert.True(api.IsOwnErrorShape("""{"error":{"message":"m","type":"t"}}"""u8));
        Assert.False(api.IsOwnErrorShape("""{"message":"Internal error","code":500}"""u8));

        var output = new ArrayBufferWriter<byte>();
        api.WriteError(output, 404, "No such response", "invalid_request_error", "response_id", "not_found");
        using var doc = JsonDocument.Parse(output.WrittenMemory);
        Assert.Equal("response_id", doc.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public void SharedInstance_EchoesTheCallsModel_AndRemembersNoWriter()
    {
        var api = (OpenAiResponsesApi)ClientApi.OpenAiResponses;
        var call = CallFor("""{"model":"gpt-alias","messages":[{"role":"user","content":"hi"}]}""", api);
        var writer = api.CreateAnswerWriter(call, 1);

        var body = Run(writer, w => { w.Text(Token("hello")); w.End(); });
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("gpt-alias", doc.RootElement.GetProperty("model").GetString());
        Assert.Equal("resp_0011", doc.RootElement.GetProperty("id").GetString());
        Assert.Null(api.Writer);
    }

    [Fact]
    public void PerRequestInstance_RemembersTheLatestAttemptsWriter()
    {
        var facts = ResponseRequestFacts.Read("""{"model":"m","input":"hi","stream":true}"""u8);
        var api = OpenAiResponsesApi.ForRequest(facts);
        var call = CallFor("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}""", api);

        var first = api.CreateStreamWriter(call, 1);
        var second = api.CreateStreamWriter(call, 1);
        Assert.Same(second, api.Writer);
        Assert.NotSame(first, api.Writer);
        Assert.Same(facts, api.Writer!.Facts);
    }

    [Fact]
    public void GatewayErrorEvent_ContinuesTheStreamsNumbering()
    {
        var api = OpenAiResponsesApi.ForRequest(ResponseRequestFacts.Read("""{"model":"m","input":"hi"}"""u8));
        var call = CallFor("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", api);
        var writer = api.CreateStreamWriter(call, 1);
        var sse = new StringBuilder(Run(writer, w => { w.Start(default, default); w.Text(Token("par")); }));

        var output = new ArrayBufferWriter<byte>();
        api.WriteErrorEvent(output, 504, "no data for 30s (idle timeout)", "timeout_error", "upstream_stream_broken");
        sse.Append(Encoding.UTF8.GetString(output.WrittenSpan));

        var events = Parse(sse.ToString());
        AssertWellFormed(events);
        Assert.Equal("error", events[^1].Type);
        Assert.Equal("upstream_stream_broken", events[^1].Str("code"));
        Assert.Equal("timeout_error", events[^1].Data.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public void WriteChatRequest_UsesThePreviousResponseItKnows()
    {
        var body = """{"model":"m","previous_response_id":"resp_1","input":"and now?"}"""u8.ToArray();
        var previous = new Proxy.ClientApis.OpenAiResponses.Store.StoredResponse("key", "resp_1",
            """[{"id":"msg_1_in0","type":"message","role":"user","content":"first"}]"""u8.ToArray(),
            """[{"id":"msg_1_0","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"one","annotations":[]}]}]"""u8.ToArray(),
            "{}"u8.ToArray(), DateTimeOffset.MaxValue);

        var output = new ArrayBufferWriter<byte>();
        OpenAiResponsesApi.ForRequest(ResponseRequestFacts.Read(body), previous).WriteChatRequest(body, output);
        using var doc = JsonDocument.Parse(output.WrittenMemory);
        Assert.Equal(3, doc.RootElement.GetProperty("messages").GetArrayLength());

        var refused = Assert.Throws<CallRejectedException>(() => ClientApi.OpenAiResponses.WriteChatRequest(body, new ArrayBufferWriter<byte>()));
        Assert.Equal("previous_response_not_found", refused.Failure.Code);
    }
}
