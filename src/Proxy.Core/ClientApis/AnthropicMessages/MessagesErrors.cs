using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Errors in Anthropic's shape, <c>{"type":"error","error":{"type","message"}}</c>, typed as Anthropic types its own
/// by HTTP status, so an Anthropic SDK raises the matching exception class and retries what it would retry (429, 529
/// overloaded, 5xx).
/// </summary>
public static class MessagesErrors
{
    /// <summary>
    /// Anthropic's error type for a status. The statuses Anthropic documents map one to one; 503 (the gateway at its
    /// cap, an upstream busy) is said as overloaded_error, Anthropic's "try again later"; a timeout the gateway
    /// classified as one stays one whatever its status; anything else by class.
    /// </summary>
    public static string TypeFor(int status, string? gatewayType) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        500 => "api_error",
        504 => "timeout_error",
        503 or 529 => "overloaded_error",
        _ when gatewayType == OpenAiError.Timeout => "timeout_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>A whole error body.</summary>
    public static void Write(IBufferWriter<byte> output, int status, string message, string? gatewayType)
    {
        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        WriteObject(w, status, message, gatewayType);
    }

    /// <summary>An error as the SSE event that ends a stream which broke after it began, as Anthropic sends one.</summary>
    public static void WriteEvent(IBufferWriter<byte> output, int status, string message, string? gatewayType)
    {
        Copy(output, "event: error\ndata: "u8);
        Write(output, status, message, gatewayType);
        Copy(output, "\n\n"u8);
    }

    /// <summary>The error object on a writer the caller owns (the stream writer reuses its own).</summary>
    public static void WriteObject(Utf8JsonWriter w, int status, string message, string? gatewayType)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "error"u8);
        w.WriteStartObject("error"u8);
        w.WriteString("type"u8, TypeFor(status, gatewayType));
        w.WriteString("message"u8, message);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>True when a body is already Anthropic's error shape: top-level <c>"type":"error"</c> beside an <c>error</c> object.</summary>
    public static bool IsOwnShape(ReadOnlySpan<byte> body)
    {
        bool typeIsError = false, hasErrorObject = false;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isType = reader.ValueTextEquals("type"u8), isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (isType) typeIsError = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("error"u8);
                else if (isError) hasErrorObject = reader.TokenType == JsonTokenType.StartObject;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return false;
        }
        return typeIsError && hasErrorObject;
    }

    private static void Copy(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
