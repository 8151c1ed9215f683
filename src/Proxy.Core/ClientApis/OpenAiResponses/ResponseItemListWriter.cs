using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// GET /v1/responses/{id}/input_items: a page of stored items as OpenAI's list object,
/// <c>{"object":"list","data":[...],"first_id","last_id","has_more"}</c>. Newest first unless asked otherwise (OpenAI's
/// default order is desc); <c>after</c> is an item id, the page starts past it in the chosen order.
/// </summary>
public static class ResponseItemListWriter
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> itemsJson, int limit = DefaultLimit, bool ascending = false, string? after = null)
    {
        limit = Math.Clamp(limit, 1, MaxLimit);
        var reader = new Utf8JsonReader(itemsJson);
        using var doc = JsonDocument.ParseValue(ref reader);
        var items = doc.RootElement.EnumerateArray().ToList();
        if (!ascending) items.Reverse();

        int start = 0;
        if (after is not null)
        {
            int at = items.FindIndex(item => IdOf(item) == after);
            start = at < 0 ? items.Count : at + 1; // an unknown cursor gives an empty page, not the first one again
        }
        int count = Math.Min(limit, items.Count - start);

        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        w.WriteStartObject();
        w.WriteString("object"u8, "list"u8);
        w.WriteStartArray("data"u8);
        for (int i = start; i < start + count; i++) items[i].WriteTo(w);
        w.WriteEndArray();
        WriteId(w, "first_id"u8, count > 0 ? IdOf(items[start]) : null);
        WriteId(w, "last_id"u8, count > 0 ? IdOf(items[start + count - 1]) : null);
        w.WriteBoolean("has_more"u8, start + count < items.Count);
        w.WriteEndObject();
    }

    private static string? IdOf(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    private static void WriteId(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? id)
    {
        if (id is null) w.WriteNull(name);
        else w.WriteString(name, id);
    }
}
