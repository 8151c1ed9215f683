using System.Buffers;
using System.Text.Json;
using Proxy.ClientApis.OpenAiResponses;

namespace Proxy.Core.Tests.ClientApis.OpenAiResponses;

public class ResponseItemListWriterTests
{
    private static readonly byte[] Items = """[{"id":"i1","type":"message"},{"id":"i2","type":"message"},{"id":"i3","type":"function_call"},{"id":"i4","type":"function_call_output"}]"""u8.ToArray();

    private static JsonElement List(int limit = 20, bool ascending = false, string? after = null)
    {
        var output = new ArrayBufferWriter<byte>();
        ResponseItemListWriter.Write(output, Items, limit, ascending, after);
        using var doc = JsonDocument.Parse(output.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static string[] Ids(JsonElement list) => [.. list.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];

    [Fact]
    public void Default_IsNewestFirst_AllOnOnePage()
    {
        var list = List();

        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal(["i4", "i3", "i2", "i1"], Ids(list));
        Assert.Equal("i4", list.GetProperty("first_id").GetString());
        Assert.Equal("i1", list.GetProperty("last_id").GetString());
        Assert.False(list.GetProperty("has_more").GetBoolean());
    }

    [Fact]
    public void Pages_FollowTheCursor()
    {
        var first = List(limit: 2, ascending: true);
        Assert.Equal(["i1", "i2"], Ids(first));
        Assert.True(first.GetProperty("has_more").GetBoolean());

        var second = List(limit: 2, ascending: true, after: first.GetProperty("last_id").GetString());
        Assert.Equal(["i3", "i4"], Ids(second));
        Assert.False(second.GetProperty("has_more").GetBoolean());
    }

    [Fact]
    public void PastTheEnd_OrAnUnknownCursor_IsAnEmptyPage()
    {
        foreach (var list in new[] { List(after: "i1"), List(after: "nope") })
        {
            Assert.Empty(Ids(list));
            Assert.Equal(JsonValueKind.Null, list.GetProperty("first_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, list.GetProperty("last_id").ValueKind);
            Assert.False(list.GetProperty("has_more").GetBoolean());
        }
    }
}
