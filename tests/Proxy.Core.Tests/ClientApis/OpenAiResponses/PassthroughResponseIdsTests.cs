using Proxy.ClientApis.OpenAiResponses.Store;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class PassthroughResponseIdsTests
{
    [Theory]
    [InlineData("""{"id":"resp_68c0a1b2c3d4","object":"response"}""", "resp_68c0a1b2c3d4")]
    [InlineData("""{"object":"response","output":[{"id":"msg_1"}],"id":"resp_after-nested_1"}""", "resp_after-nested_1")]
    [InlineData("""{"object":"response"}""", null)]
    [InlineData("""{"id":42}""", null)]
    [InlineData("""{"id":""}""", null)]
    [InlineData("""[{"id":"resp_1"}]""", null)]
    [InlineData("""not json""", null)]
    public void OfResponse_TheTopLevelId(string json, string? id) =>
        Assert.Equal(id, PassthroughResponseIds.OfResponse(System.Text.Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("..")]
    [InlineData("resp/../../chat")]
    [InlineData("resp 1")]
    [InlineData("resp_%2F")]
    [InlineData("resp_é")]
    public void OfResponse_RefusesIdsUnsafeInAUrlPath(string id) =>
        Assert.Null(PassthroughResponseIds.OfResponse(System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{id}}"}""")));

    [Fact]
    public void OfResponse_RefusesEscapedAndOverlongIds()
    {
        Assert.Null(PassthroughResponseIds.OfResponse("""{"id":"resp\u005f1"}"""u8));
        Assert.Null(PassthroughResponseIds.OfResponse(System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{new string('a', 257)}}"}""")));
        Assert.Equal(256, PassthroughResponseIds.OfResponse(System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{new string('a', 256)}}"}"""))!.Length);
    }

    [Theory]
    [InlineData("""{"type":"response.created","sequence_number":0,"response":{"output":[],"id":"resp_up_1"}}""", "resp_up_1")]
    [InlineData("""{"response":{"id":"resp_up_2"},"type":"response.created"}""", "resp_up_2")]
    [InlineData("""{"type":"response.created","id":"resp_top","response":{"status":"in_progress"}}""", null)]
    [InlineData("""{"type":"response.created","response":null}""", null)]
    public void OfEvent_TheIdInTheResponseObject(string json, string? id) =>
        Assert.Equal(id, PassthroughResponseIds.OfEvent(System.Text.Encoding.UTF8.GetBytes(json)));
}
