using System.Buffers;
using System.Text.Json;
using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Errors;
using static Proxy.ClientApis.OpenAiResponses.ResponsesJson;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// The input items a stored response keeps (<see cref="StoredResponse.InputItems"/>): the conversation it continued
/// (the previous response's input and output items), then its own input. Input given as a string is stored as the user
/// message item it stands for; items are kept as sent, given an id where they had none (the input_items list pages by
/// item id), shorthand messages in the item shape SDKs parse. Instructions are not items: as at OpenAI, a later turn does not inherit them.
/// </summary>
public static class ResponseInputItems
{
    public static byte[] Write(ReadOnlySpan<byte> body, StoredResponse? previous, string responseId)
    {
        using var doc = ResponsesRequestConverter.Parse(body);
        var root = doc.RootElement;
        string idBase = ResponseIds.BaseOfResponse(responseId) + "_in";
        var buffer = new ArrayBufferWriter<byte>(body.Length + 256);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options))
        {
            w.WriteStartArray();
            if (previous is not null)
            {
                foreach (var items in (ReadOnlySpan<byte[]>)[previous.InputItems, previous.OutputItems])
                {
                    using var history = JsonDocument.Parse(items);
                    foreach (var item in history.RootElement.EnumerateArray()) item.WriteTo(w);
                }
            }
            if (Present(root, "input", out var input))
            {
                if (input.ValueKind == JsonValueKind.String) WriteUserMessage(w, ResponseIds.Item("msg", idBase, 0), input);
                else if (input.ValueKind == JsonValueKind.Array)
                {
                    int n = 0;
                    foreach (var item in input.EnumerateArray()) WriteItem(w, item, idBase, n++);
                }
            }
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteUserMessage(Utf8JsonWriter w, string id, JsonElement text)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "user"u8);
        w.WriteString("status"u8, "completed"u8);
        w.WriteStartArray("content"u8);
        w.WriteStartObject();
        w.WriteString("type"u8, "input_text"u8);
        w.WritePropertyName("text"u8);
        text.WriteTo(w);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// An input item as the list shows it: with an id, and a message in the item shape SDKs parse (the shorthand
    /// <c>{role, content: "text"}</c> gets its type and its text as one part).
    /// </summary>
    private static void WriteItem(Utf8JsonWriter w, JsonElement item, string idBase, int n)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            item.WriteTo(w);
            return;
        }
        string? type = StringOf(item, "type");
        bool message = type is null or "message";
        w.WriteStartObject();
        if (StringOf(item, "id") is null)
        {
            string prefix = type switch
            {
                null or "message" => "msg",
                "function_call" => "fc",
                "function_call_output" => "fco",
                "reasoning" => "rs",
                _ => "item",
            };
            w.WriteString("id"u8, ResponseIds.Item(prefix, idBase, n));
        }
        if (type is null) w.WriteString("type"u8, "message"u8);
        foreach (var property in item.EnumerateObject())
        {
            if (property.NameEquals("id"u8) && property.Value.ValueKind != JsonValueKind.String) continue;
            if (message && property.NameEquals("content"u8) && property.Value.ValueKind == JsonValueKind.String)
            {
                w.WriteStartArray("content"u8);
                w.WriteStartObject();
                w.WriteString("type"u8, StringOf(item, "role") == "assistant" ? "output_text"u8 : "input_text"u8);
                w.WritePropertyName("text"u8);
                property.Value.WriteTo(w);
                w.WriteEndObject();
                w.WriteEndArray();
                continue;
            }
            property.WriteTo(w);
        }
        w.WriteEndObject();
    }
}
