using System.Buffers;
using System.Text.Json;

namespace Proxy.Errors;

/// <summary>The OpenAI error shape, <c>{"error":{"message","type","param","code"}}</c>, which every client SDK parses.</summary>
public static class OpenAiError
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string NotFound = "not_found_error";
    public const string RateLimit = "rate_limit_error";
    public const string Upstream = "upstream_error";
    public const string Timeout = "timeout_error";

    /// <summary>The gateway's own trouble: a bug (500), or at its cap or out of descriptors (503), as OpenAI types its own.</summary>
    public const string Server = "server_error";

    public static void Write(IBufferWriter<byte> output, string message, string type, string? param, string? code)
    {
        using var writer = new Utf8JsonWriter(output, JsonOutput.Options);
        writer.WriteStartObject();
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, message);
        writer.WriteString("type"u8, type);
        if (param is null) writer.WriteNull("param"u8);
        else writer.WriteString("param"u8, param);
        if (code is null) writer.WriteNull("code"u8);
        else writer.WriteString("code"u8, code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>An error as the last SSE event of a stream that broke after it began: OpenAI SDKs raise it as an API error.</summary>
    public static void WriteEvent(IBufferWriter<byte> output, string message, string type, string? code)
    {
        "data: "u8.CopyTo(output.GetSpan(6));
        output.Advance(6);
        Write(output, message, type, null, code);
        "\n\n"u8.CopyTo(output.GetSpan(2));
        output.Advance(2);
    }

    /// <summary>True when a body is already {"error":{...}} and can go to the client as it is.</summary>
    public static bool IsOpenAiShape(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (isError) return reader.TokenType == JsonTokenType.StartObject;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }

    /// <summary>The message inside a provider's error body, whatever its shape, for wrapping in ours.</summary>
    public static string? FindMessage(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("message"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                    return reader.GetString();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }
}
