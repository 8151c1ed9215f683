using System.Text;
using System.Text.Json.Nodes;

namespace Proxy.Providers.Tests.OpenAI;

/// <summary>
/// What an OpenAI chat answer says, whatever its layout: the text (content and refusal), each tool call's id, name
/// and joined arguments, the finish reason and the usage. Two answers that say the same compare equal, so a stream
/// decoded and written again can be checked against the upstream's.
/// </summary>
public sealed record ChatSummary(string Text, string ToolCalls, string? Finish, string Usage)
{
    /// <summary>A chat.completion.chunk stream, read the way an SDK reads it.</summary>
    public static ChatSummary FromStream(string sse)
    {
        var text = new StringBuilder();
        var calls = new SortedDictionary<int, (string Id, string Name, StringBuilder Arguments)>();
        string? finish = null, usage = "none";
        foreach (var line in sse.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (!trimmed.StartsWith("data: ", StringComparison.Ordinal) || trimmed == "data: [DONE]") continue;
            var chunk = JsonNode.Parse(trimmed["data: ".Length..])!;
            if (chunk["usage"] is JsonObject u) usage = UsageOf(u);
            if (chunk["choices"] is not JsonArray { Count: > 0 } choices) continue;
            var choice = choices[0]!;
            if (choice["finish_reason"] is JsonValue f) finish = f.GetValue<string>();
            var delta = choice["delta"];
            text.Append((string?)delta?["content"]).Append((string?)delta?["refusal"]);
            if (delta?["tool_calls"] is not JsonArray entries) continue;
            foreach (var entry in entries)
            {
                int index = (int)entry!["index"]!;
                if (!calls.TryGetValue(index, out var call)) calls[index] = call = ("", "", new StringBuilder());
                if ((string?)entry["id"] is { } id) call.Id = id;
                if ((string?)entry["function"]?["name"] is { } name) call.Name = name;
                call.Arguments.Append((string?)entry["function"]?["arguments"]);
                calls[index] = call;
            }
        }
        return new ChatSummary(text.ToString(), string.Join("; ", calls.Select(c => $"{c.Key} {c.Value.Id} {c.Value.Name} {c.Value.Arguments}")), finish, usage);
    }

    /// <summary>A whole chat.completion.</summary>
    public static ChatSummary FromCompletion(string json)
    {
        var answer = JsonNode.Parse(json)!;
        var choice = answer["choices"]![0]!;
        var message = choice["message"]!;
        var calls = message["tool_calls"] is JsonArray array
            ? array.Select((c, i) => $"{i} {(string?)c!["id"]} {(string?)c["function"]!["name"]} {(string?)c["function"]!["arguments"]}")
            : [];
        return new ChatSummary((string?)message["content"] + (string?)message["refusal"], string.Join("; ", calls), (string?)choice["finish_reason"],
            answer["usage"] is JsonObject u ? UsageOf(u) : "none");
    }

    private static string UsageOf(JsonObject u) =>
        $"{(long)u["prompt_tokens"]!}/{(long)u["completion_tokens"]!} cached {(long?)u["prompt_tokens_details"]?["cached_tokens"] ?? 0}";
}
