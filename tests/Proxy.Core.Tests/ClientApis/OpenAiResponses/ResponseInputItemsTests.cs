using System.Text.Json;
using Proxy.ClientApis.OpenAiResponses;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class ResponseInputItemsTests
{
    [Fact]
    public void StringInput_IsStoredAsTheUserMessageItItStandsFor()
    {
        using var items = JsonDocument.Parse(ResponseInputItems.Write("""{"model":"m","instructions":"x","input":"Hi"}"""u8, null, "resp_a"));

        Assert.Equal(
            """[{"id":"msg_a_in_0","type":"message","role":"user","status":"completed","content":[{"type":"input_text","text":"Hi"}]}]""",
            items.RootElement.GetRawText());
    }

    [Fact]
    public void Items_KeepWhatTheyHad_GainIdsAndTheMessageShape()
    {
        using var items = JsonDocument.Parse(ResponseInputItems.Write("""
            {"model":"m","input":[
              {"role":"user","content":"Hi"},
              {"role":"assistant","content":"Hello","id":null},
              {"type":"message","id":"msg_own","role":"user","content":[{"type":"input_text","text":"Weather?"}]},
              {"type":"function_call_output","call_id":"c1","output":"18C"}]}
            """u8, null, "resp_b"));
        var list = items.RootElement;

        Assert.Equal("""{"id":"msg_b_in_0","type":"message","role":"user","content":[{"type":"input_text","text":"Hi"}]}""", list[0].GetRawText());
        Assert.Equal("""{"id":"msg_b_in_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello"}]}""", list[1].GetRawText());
        Assert.Equal("msg_own", list[2].GetProperty("id").GetString());
        Assert.Equal("""{"id":"fco_b_in_3","type":"function_call_output","call_id":"c1","output":"18C"}""", list[3].GetRawText());
    }
}
