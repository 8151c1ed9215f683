using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>
/// The chat completions <c>messages</c> checks of the real API: an array of at least one object, each with a supported
/// role, content of the right type for it, tool calls and tool call ids where the role needs them.
/// </summary>
internal static class MockMessages
{
    private const string Roles = "'system', 'assistant', 'user', 'function', 'tool', and 'developer'";
    private const string OneOfRoles = "one of 'system', 'assistant', 'user', 'function', 'tool', or 'developer'";
    private const string PartTypes = "'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'";
    private const string OneOfPartTypes = "one of 'text', 'image_url', 'input_audio', 'refusal', 'audio', or 'file'";
    private const string StringOrParts = "one of a string or array of objects";

    private enum Role
    {
        Missing,
        Refused,
        System,
        User,
        Assistant,
        Tool,
        Function,
        Developer,
    }

    /// <summary>
    /// Reader on the value of <c>messages</c>; leaves it on the value's last token. Faults of the message schema are
    /// reported at <paramref name="rank"/>, the first one in the array; a missing content or tool_call_id, which the
    /// API checks after every other parameter, at <paramref name="lateRank"/>.
    /// </summary>
    public static MockFault? Check(ref Utf8JsonReader reader, int rank, int lateRank)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            return MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, "messages", "an array of objects", MockFaults.Got(ref reader)));
        MockFault? early = null, late = null;
        int i = 0;
        for (; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
        {
            if (early is not null) reader.Skip();
            else if (reader.TokenType != JsonTokenType.StartObject)
                early = MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, $"messages[{i}]", "an object", MockFaults.Got(ref reader)));
            else Message(ref reader, i, rank, lateRank, ref early, ref late);
        }
        return i == 0 ? MockFaults.Empty(rank, "messages") : early ?? late;
    }

    /// <summary>One message object, read whole before judging it: the role decides what its other fields must be.</summary>
    private static void Message(ref Utf8JsonReader reader, int i, int rank, int lateRank, ref MockFault? early, ref MockFault? late)
    {
        var role = Role.Missing;
        var content = JsonTokenType.None;
        bool substitute = false, emptyToolCalls = false, toolCallId = false;
        MockFault? roleFault = null, contentFault = null, toolCallsFault = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("role"u8))
            {
                reader.Read();
                role = ReadRole(ref reader, i, rank, out roleFault);
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                content = reader.TokenType;
                contentFault = Content(ref reader, i, rank);
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    var peek = reader;
                    emptyToolCalls = peek.Read() && peek.TokenType == JsonTokenType.EndArray;
                    substitute = true;
                }
                else if (reader.TokenType != JsonTokenType.Null)
                    toolCallsFault = MockFaults.WrongType(rank, $"messages[{i}].tool_calls", "an array of objects", MockFaults.Got(ref reader));
                reader.Skip();
            }
            else
            {
                // An assistant message may carry one of these instead of content; null stands in for nothing.
                bool stands = reader.ValueTextEquals("function_call"u8) || reader.ValueTextEquals("refusal"u8) || reader.ValueTextEquals("audio"u8);
                bool isToolCallId = reader.ValueTextEquals("tool_call_id"u8);
                reader.Read();
                substitute |= stands && reader.TokenType != JsonTokenType.Null;
                toolCallId |= isToolCallId && reader.TokenType != JsonTokenType.Null;
                reader.Skip();
            }
        }

        early = role switch
        {
            Role.Missing => MockFaults.Missing(rank, $"messages[{i}].role"),
            Role.Refused => roleFault,
            _ when contentFault is not null => contentFault,
            // The developer message is its own schema: its content is required and may not be null.
            Role.Developer when content == JsonTokenType.None => MockFaults.Missing(rank, $"messages[{i}].content"),
            Role.Developer when content == JsonTokenType.Null => MockFaults.WrongType(rank, $"messages[{i}].content", StringOrParts, "null"),
            Role.Assistant when toolCallsFault is not null => toolCallsFault,
            Role.Assistant when emptyToolCalls => MockFaults.Empty(rank, $"messages[{i}].tool_calls"),
            _ => null,
        };
        if (early is not null || late is not null) return;
        // These two come from a later stage of the API, with its own wording, a "messages.[i]" param and no code.
        if (content is JsonTokenType.None or JsonTokenType.Null && !(role == Role.Assistant && substitute))
            late = new MockFault(lateRank, "Invalid value for 'content': expected a string, got null.", $"messages.[{i}].content", null);
        else if (role == Role.Tool && !toolCallId)
            late = new MockFault(lateRank, "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.", $"messages.[{i}].tool_call_id", null);
    }

    private static Role ReadRole(ref Utf8JsonReader reader, int i, int rank, out MockFault? fault)
    {
        fault = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            fault = MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, $"messages[{i}].role", OneOfRoles, MockFaults.Got(ref reader)));
            return Role.Refused;
        }
        if (reader.ValueTextEquals("user"u8)) return Role.User;
        if (reader.ValueTextEquals("assistant"u8)) return Role.Assistant;
        if (reader.ValueTextEquals("system"u8)) return Role.System;
        if (reader.ValueTextEquals("tool"u8)) return Role.Tool;
        if (reader.ValueTextEquals("developer"u8)) return Role.Developer;
        if (reader.ValueTextEquals("function"u8)) return Role.Function;
        fault = MockFaults.NotSupported(rank, $"messages[{i}].role", reader.GetString()!, Roles);
        return Role.Refused;
    }

    /// <summary>A string, null (judged later, by role), or an array of content parts each with a known type.</summary>
    private static MockFault? Content(ref Utf8JsonReader reader, int i, int rank)
    {
        if (reader.TokenType is JsonTokenType.String or JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray)
            return MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, $"messages[{i}].content", StringOrParts, MockFaults.Got(ref reader)));
        MockFault? fault = null;
        for (int j = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; j++)
        {
            if (fault is not null) reader.Skip();
            else if (reader.TokenType != JsonTokenType.StartObject)
                fault = MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, $"messages[{i}].content[{j}]", "an object", MockFaults.Got(ref reader)));
            else fault = Part(ref reader, i, j, rank);
        }
        return fault;
    }

    private static MockFault? Part(ref Utf8JsonReader reader, int i, int j, int rank)
    {
        MockFault? fault = null;
        bool hasType = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType)
            {
                hasType = true;
                fault = PartType(ref reader, i, j, rank);
            }
            reader.Skip();
        }
        return hasType ? fault : MockFaults.Missing(rank, $"messages[{i}].content[{j}].type");
    }

    private static MockFault? PartType(ref Utf8JsonReader reader, int i, int j, int rank)
    {
        if (reader.TokenType != JsonTokenType.String)
            return MockFaults.WrongType(rank, $"messages[{i}].content[{j}].type", OneOfPartTypes, MockFaults.Got(ref reader));
        if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("image_url"u8) || reader.ValueTextEquals("input_audio"u8)
            || reader.ValueTextEquals("refusal"u8) || reader.ValueTextEquals("audio"u8) || reader.ValueTextEquals("file"u8)) return null;
        return MockFaults.NotSupported(rank, $"messages[{i}].content[{j}].type", reader.GetString()!, PartTypes);
    }
}
