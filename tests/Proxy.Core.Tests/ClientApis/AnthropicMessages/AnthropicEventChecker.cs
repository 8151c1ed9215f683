using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

/// <summary>
/// A tiny Anthropic stream client: reads the SSE text, checks that every event has its <c>event:</c> line and a data
/// line of the same type, and that the events come in Anthropic's order (message_start; blocks started, updated and
/// stopped one at a time with deltas of their own kind and consecutive indexes; message_delta; message_stop; pings
/// anywhere; an error only as the last event), then rebuilds the message as an SDK would.
/// </summary>
internal static class AnthropicEventChecker
{
    public sealed record Result(JsonObject Message, List<string> Events, JsonObject? Error);

    public static Result Read(string sse)
    {
        Assert.EndsWith("\n\n", sse, StringComparison.Ordinal);
        var events = new List<string>();
        JsonObject? message = null, error = null;
        var content = new JsonArray();
        var partialJson = new Dictionary<int, StringBuilder>();
        int open = -1;
        bool deltaSeen = false, stopped = false;
        foreach (var chunk in sse[..^2].Split("\n\n"))
        {
            Assert.Null(error); // nothing follows an error
            Assert.False(stopped, "nothing follows message_stop");
            var lines = chunk.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            string name = lines[0]["event: ".Length..];
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject();
            Assert.Equal(name, (string?)data["type"]);
            events.Add(name);
            switch (name)
            {
                case "ping":
                    break;
                case "error":
                    error = data["error"]!.AsObject();
                    Assert.NotNull((string?)error["type"]);
                    Assert.NotNull((string?)error["message"]);
                    break;
                case "message_start":
                    Assert.Null(message);
                    message = data["message"]!.AsObject();
                    Assert.Equal("message", (string?)message["type"]);
                    Assert.Equal("assistant", (string?)message["role"]);
                    Assert.Empty(message["content"]!.AsArray());
                    Assert.Null(message["stop_reason"]);
                    AssertUsage(message["usage"]!.AsObject());
                    break;
                case "content_block_start":
                    Assert.NotNull(message);
                    Assert.False(deltaSeen, "no block starts after message_delta");
                    Assert.Equal(-1, open);
                    open = (int)data["index"]!;
                    Assert.Equal(content.Count, open);
                    content.Add(data["content_block"]!.DeepClone());
                    break;
                case "content_block_delta":
                {
                    int index = (int)data["index"]!;
                    Assert.Equal(open, index);
                    var block = content[index]!.AsObject();
                    var delta = data["delta"]!.AsObject();
                    string kind = (string)block["type"]!;
                    switch ((string?)delta["type"])
                    {
                        case "text_delta":
                            Assert.Equal("text", kind);
                            block["text"] = (string)block["text"]! + (string)delta["text"]!;
                            break;
                        case "thinking_delta":
                            Assert.Equal("thinking", kind);
                            block["thinking"] = (string)block["thinking"]! + (string)delta["thinking"]!;
                            break;
                        case "signature_delta":
                            Assert.Equal("thinking", kind);
                            block["signature"] = (string)block["signature"]! + (string)delta["signature"]!;
                            break;
                        case "input_json_delta":
                            Assert.Equal("tool_use", kind);
                            (partialJson.TryGetValue(index, out var sb) ? sb : partialJson[index] = new StringBuilder()).Append((string)delta["partial_json"]!);
                            break;
                        default:
                            Assert.Fail("unknown delta " + delta.ToJsonString());
                            break;
                    }
                    break;
                }
                case "content_block_stop":
                    Assert.Equal(open, (int)data["index"]!);
                    if (partialJson.TryGetValue(open, out var json)) content[open]!["input"] = JsonNode.Parse(json.ToString());
                    open = -1;
                    break;
                case "message_delta":
                    Assert.NotNull(message);
                    Assert.Equal(-1, open);
                    Assert.False(deltaSeen);
                    deltaSeen = true;
                    message["stop_reason"] = data["delta"]!["stop_reason"]!.DeepClone();
                    message["stop_sequence"] = data["delta"]!["stop_sequence"]?.DeepClone();
                    AssertUsage(data["usage"]!.AsObject());
                    message["usage"] = data["usage"]!.DeepClone();
                    break;
                case "message_stop":
                    Assert.True(deltaSeen, "message_delta comes before message_stop");
                    stopped = true;
                    break;
                default:
                    Assert.Fail("unknown event " + name);
                    break;
            }
        }
        Assert.True(stopped || error is not null, "a stream ends with message_stop or an error");
        message ??= [];
        message["content"] = content;
        return new Result(message, events, error);
    }

    private static void AssertUsage(JsonObject usage)
    {
        foreach (var field in new[] { "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens" })
            Assert.Equal(JsonValueKind.Number, usage[field]!.GetValueKind());
    }
}
