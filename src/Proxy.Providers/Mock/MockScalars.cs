using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>
/// The range and type checks the real API makes on optional scalar parameters. Each takes the reader on the value and
/// leaves it on the value's last token, refused or not. null is accepted: the API declares these parameters nullable.
/// </summary>
internal static class MockScalars
{
    /// <summary>temperature, top_p, the penalties: any number within [min, max].</summary>
    public static MockFault? Decimal(ref Utf8JsonReader reader, int rank, string param, double min, double max, string minText, string maxText)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.Number) return Refuse(ref reader, MockFaults.WrongType(rank, param, "a decimal", MockFaults.Got(ref reader)));
        // Beyond a double's range is far beyond any bound, on the side of its sign.
        double value = reader.TryGetDouble(out var parsed) ? parsed : reader.ValueSpan[0] == (byte)'-' ? double.NegativeInfinity : double.PositiveInfinity;
        if (value < min) return MockFaults.Below(rank, param, "decimal", minText, MockFaults.Text(ref reader));
        if (value > max) return MockFaults.Above(rank, param, "decimal", maxText, MockFaults.Text(ref reader));
        return null;
    }

    /// <summary>n, max_tokens, max_completion_tokens: an integer of at least <paramref name="min"/>.</summary>
    public static MockFault? Integer(ref Utf8JsonReader reader, int rank, string param, long min)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.Number || !MockFaults.IsInteger(reader.ValueSpan))
            return Refuse(ref reader, MockFaults.WrongType(rank, param, "an integer", MockFaults.Got(ref reader)));
        // Too large for a long is far above any minimum; too small for one is far below.
        bool below = reader.TryGetInt64(out var value) ? value < min : reader.ValueSpan[0] == (byte)'-';
        return below ? MockFaults.Below(rank, param, "integer", min.ToString(System.Globalization.CultureInfo.InvariantCulture), MockFaults.Text(ref reader)) : null;
    }

    public static MockFault? Boolean(ref Utf8JsonReader reader, int rank, string param)
    {
        if (reader.TokenType is JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null) return null;
        return Refuse(ref reader, MockFaults.WrongType(rank, param, "a boolean", MockFaults.Got(ref reader)));
    }

    /// <summary>Moves past an object or array value (a no-op on a scalar) and returns the fault found on it.</summary>
    public static MockFault Refuse(ref Utf8JsonReader reader, MockFault fault)
    {
        reader.Skip();
        return fault;
    }
}
