using System.Text.Json;

namespace Proxy.Providers.Bedrock.Converse;

/// <summary>The "messages" and "system" parts of a Converse body.</summary>
internal static class Messages
{
    /// <summary>Writes "messages"; returns whether any toolUse or toolResult block was written (Converse then needs toolConfig).</summary>
    public static bool Write(Utf8JsonWriter writer, JsonElement messages)
    {
        writer.WriteStartArray("messages"u8);
        string? open = null; // the Converse role of the turn being written; same-role messages join it
        bool toolBlocks = false;
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("Each message must be an object.", param);
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            string turn = role switch
            {
                "system" or "developer" => "",
                "user" or "tool" => "user",
                "assistant" => "assistant",
                _ => throw CallRejectedException.Unsupported($"Message role '{role}' is not supported for Bedrock.", param + ".role"),
            };
            if (turn.Length == 0) continue;
            if (open != turn)
            {
                if (open is not null) EndTurn(writer);
                writer.WriteStartObject();
                writer.WriteString("role"u8, turn);
                writer.WriteStartArray("content"u8);
                open = turn;
            }
            switch (role)
            {
                case "user":
                    Content.WriteUser(writer, message, param);
                    break;
                case "assistant":
                    toolBlocks |= Content.WriteAssistant(writer, message, param);
                    break;
                default:
                    Content.WriteToolResult(writer, message, param);
                    toolBlocks = true;
                    break;
            }
        }
        if (open is not null) EndTurn(writer);
        writer.WriteEndArray();
        return toolBlocks;
    }

    /// <summary>Writes "system" from the system and developer messages, in order, if there are any.</summary>
    public static void WriteSystem(Utf8JsonWriter writer, JsonElement messages)
    {
        bool any = false;
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            if (!message.TryGetProperty("role", out var r) || r.ValueKind != JsonValueKind.String || !(r.ValueEquals("system"u8) || r.ValueEquals("developer"u8)))
                continue;
            if (!any)
            {
                writer.WriteStartArray("system"u8);
                any = true;
            }
            foreach (var text in Content.Texts(message, param))
            {
                writer.WriteStartObject();
                writer.WriteString("text"u8, text);
                writer.WriteEndObject();
            }
        }
        if (any) writer.WriteEndArray();
    }

    private static void EndTurn(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
