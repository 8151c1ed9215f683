using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>
/// The chat completions <c>tools</c> shape the real API checks: a non-empty array of objects, and a function tool
/// carries a <c>function</c> with a <c>name</c> (the flat Responses API shape is refused, as OpenAI refuses it).
/// Other tool types (custom) are not checked.
/// </summary>
internal static class MockTools
{
    /// <summary>Reader on the value of <c>tools</c>; leaves it on the value's last token.</summary>
    public static MockFault? Check(ref Utf8JsonReader reader, int rank)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray)
            return MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, "tools", "an array of objects", MockFaults.Got(ref reader)));
        MockFault? fault = null;
        int i = 0;
        for (; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
        {
            if (fault is not null) reader.Skip();
            else if (reader.TokenType != JsonTokenType.StartObject)
                fault = MockScalars.Refuse(ref reader, MockFaults.WrongType(rank, $"tools[{i}]", "an object", MockFaults.Got(ref reader)));
            else fault = Tool(ref reader, i, rank);
        }
        return i == 0 ? MockFaults.Empty(rank, "tools") : fault;
    }

    private static MockFault? Tool(ref Utf8JsonReader reader, int i, int rank)
    {
        bool isFunction = false, hasFunction = false;
        MockFault? functionFault = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                isFunction = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("function"u8);
            }
            else if (reader.ValueTextEquals("function"u8))
            {
                reader.Read();
                hasFunction = reader.TokenType != JsonTokenType.Null;
                if (hasFunction) functionFault = Function(ref reader, i, rank);
            }
            else reader.Read();
            reader.Skip();
        }
        if (!isFunction) return null;
        return hasFunction ? functionFault : MockFaults.Missing(rank, $"tools[{i}].function");
    }

    private static MockFault? Function(ref Utf8JsonReader reader, int i, int rank)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            return MockFaults.WrongType(rank, $"tools[{i}].function", "an object", MockFaults.Got(ref reader));
        bool hasName = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            hasName |= reader.ValueTextEquals("name"u8);
            reader.Read();
            reader.Skip();
        }
        return hasName ? null : MockFaults.Missing(rank, $"tools[{i}].function.name");
    }
}
