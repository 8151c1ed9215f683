using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>
/// A Converse answer as an OpenAI chat.completion: text blocks joined into content, toolUse blocks as tool_calls
/// (input serialized into the arguments string), stopReason as finish_reason, usage with cached tokens.
/// Reasoning blocks are not passed on (OpenAI's chat API has no field for them).
/// </summary>
public static class ConverseResponseWriter
{
    public static void Write(ReadOnlySpan<byte> converse, string id, long created, string model, IBufferWriter<byte> output, ref Usage usage)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(converse.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not JSON (" + e.Message + ")", e);
        }
        using (doc)
        {
            try
            {
                Write(doc.RootElement, converse, id, created, model, output, ref usage);
            }
            catch (InvalidOperationException e)
            {
                // A JsonElement of another kind than Converse's (an object where a string belongs...). Nothing has
                // reached the client: the relay sends the output only when this returns.
                throw new InvalidUpstreamAnswerException("the answer does not have Converse's shape (" + e.Message + ")", e);
            }
        }
    }

    private static void Write(JsonElement root, ReadOnlySpan<byte> converse, string id, long created, string model, IBufferWriter<byte> output, ref Usage usage)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("output", out var outputElement) || outputElement.ValueKind != JsonValueKind.Object
            || !outputElement.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object
            || !message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
            throw new InvalidUpstreamAnswerException("the answer has no output.message.content: not a Converse answer");

        var text = new StringBuilder();
        bool hasText = false;
        foreach (var block in content.EnumerateArray())
        {
            if (block.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
                hasText = true;
            }
        }
        ConverseUsage.ReadAnswer(converse, ref usage);
        var finish = root.TryGetProperty("stopReason", out var stop) && stop.ValueKind == JsonValueKind.String
            ? StopReasons.ToFinishReason(Encoding.UTF8.GetBytes(stop.GetString()!))
            : "stop"u8;

        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("object"u8, "chat.completion"u8);
        w.WriteNumber("created"u8, created);
        w.WriteString("model"u8, model);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant"u8);
        bool toolCalls = WriteToolCalls(w, content, dryRun: true);
        if (hasText || !toolCalls) w.WriteString("content"u8, text.ToString());
        else w.WriteNull("content"u8);
        w.WriteNull("refusal"u8);
        if (toolCalls) WriteToolCalls(w, content, dryRun: false);
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        w.WriteString("finish_reason"u8, finish);
        w.WriteEndObject();
        w.WriteEndArray();
        if (usage.Reported) ConverseUsage.Write(w, usage);
        w.WriteEndObject();
    }

    private static bool WriteToolCalls(Utf8JsonWriter w, JsonElement content, bool dryRun)
    {
        bool any = false;
        foreach (var block in content.EnumerateArray())
        {
            if (!block.TryGetProperty("toolUse", out var toolUse) || toolUse.ValueKind != JsonValueKind.Object) continue;
            if (dryRun) return true;
            if (!any) w.WriteStartArray("tool_calls"u8);
            any = true;
            w.WriteStartObject();
            w.WriteString("id"u8, toolUse.TryGetProperty("toolUseId", out var id) ? id.GetString() : "");
            w.WriteString("type"u8, "function"u8);
            w.WriteStartObject("function"u8);
            w.WriteString("name"u8, toolUse.TryGetProperty("name", out var name) ? name.GetString() : "");
            w.WriteString("arguments"u8, toolUse.TryGetProperty("input", out var input) ? Compact(input) : "{}");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (any) w.WriteEndArray();
        return any;
    }

    /// <summary>The tool input as OpenAI carries arguments: one compact JSON string.</summary>
    private static string Compact(JsonElement input)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options)) input.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
