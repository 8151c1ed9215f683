using System.Text.Json;

namespace Proxy.Functional.Tests.Fixtures;

public static class Assertions
{
    /// <summary>
    /// Checks the status and the OpenAI error shape {"error":{"message","type","param","code"}} (all four present),
    /// then type, code, param and a part of the message. Returns the error object.
    /// </summary>
    public static async Task<JsonElement> AssertOpenAiError(HttpResponseMessage response, int status, string type,
        string? code = null, string? param = null, string? messageContains = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected HTTP {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return AssertErrorShape(body, type, code, param, messageContains);
    }

    public static JsonElement AssertErrorShape(string json, string type, string? code = null, string? param = null, string? messageContains = null)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        var error = root.GetProperty("error");
        Assert.Equal(["code", "message", "param", "type"], error.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(type, error.GetProperty("type").GetString());
        AssertNullableString(error.GetProperty("code"), code, "code");
        AssertNullableString(error.GetProperty("param"), param, "param");
        var message = error.GetProperty("message").GetString()!;
        if (messageContains is not null)
            Assert.True(message.Contains(messageContains, StringComparison.Ordinal), $"message should contain \"{messageContains}\" but is \"{message}\"");
        return error.Clone();
    }

    private static void AssertNullableString(JsonElement value, string? expected, string what)
    {
        if (expected is null) return; // not checked: null or any code
        Assert.True(value.ValueKind == JsonValueKind.String, $"{what} should be \"{expected}\" but is {value}");
        Assert.Equal(expected, value.GetString());
    }

    public static string Message(JsonElement error) => error.GetProperty("message").GetString()!;
}
