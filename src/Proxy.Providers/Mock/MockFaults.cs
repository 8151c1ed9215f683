using System.Text;
using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>
/// The real API's sentences for a body it refuses, word for word as its 400 answers quote them (clients and tests match
/// on them), and the names it gives JSON values in "but got ... instead". Only called when a body is refused.
/// </summary>
internal static class MockFaults
{
    public const string MissingRequiredParameter = "missing_required_parameter";
    public const string InvalidType = "invalid_type";
    public const string InvalidValue = "invalid_value";
    public const string EmptyArray = "empty_array";

    public static MockFault Missing(int rank, string param) =>
        new(rank, $"Missing required parameter: '{param}'.", param, MissingRequiredParameter);

    public static MockFault WrongType(int rank, string param, string expected, string got) =>
        new(rank, $"Invalid type for '{param}': expected {expected}, but got {got} instead.", param, InvalidType);

    public static MockFault Empty(int rank, string param) =>
        new(rank, $"Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead.", param, EmptyArray);

    /// <summary><paramref name="supported"/> is the API's own list: <c>'a', 'b', and 'c'</c>.</summary>
    public static MockFault NotSupported(int rank, string param, string value, string supported) =>
        new(rank, $"Invalid value: '{value}'. Supported values are: {supported}.", param, InvalidValue);

    /// <summary>"decimal" for temperature-like parameters, "integer" for counts; <paramref name="got"/> is the number as sent.</summary>
    public static MockFault Below(int rank, string param, string kind, string minimum, string got) =>
        new(rank, $"Invalid '{param}': {kind} below minimum value. Expected a value >= {minimum}, but got {got} instead.", param, $"{kind}_below_min_value");

    public static MockFault Above(int rank, string param, string kind, string maximum, string got) =>
        new(rank, $"Invalid '{param}': {kind} above maximum value. Expected a value <= {maximum}, but got {got} instead.", param, $"{kind}_above_max_value");

    /// <summary>The API's name for the value under the reader: "a string", "an integer", "a decimal number", "null"...</summary>
    public static string Got(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => IsInteger(reader.ValueSpan) ? "an integer" : "a decimal number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => "null",
    };

    /// <summary>A JSON number the API reads as an integer: no fraction and no exponent (it parses 1.0 and 1e2 as decimals).</summary>
    public static bool IsInteger(ReadOnlySpan<byte> number) => number.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0;

    /// <summary>A number as the client wrote it, for "but got 2.5 instead" (number tokens are never escaped).</summary>
    public static string Text(ref Utf8JsonReader reader) => Encoding.UTF8.GetString(reader.ValueSpan);
}
