using System.Text.Json;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// An error event inside a 200 stream (<c>data: {"error":{"message","type","param","code"}}</c>), classified as the same
/// error would have been had it come as the HTTP answer. The stream has no status of its own, so one is taken from the
/// error: Azure's <c>status</c> field, a numeric <c>code</c> ("429"), or OpenAI's documented type and code names.
/// </summary>
internal static class OpenAiStreamError
{
    public static UpstreamFailure Classify(string provider, ReadOnlySpan<byte> data) => OpenAiAdapter.Classify(provider, StatusOf(data), data);

    /// <summary>The HTTP status the error stands for; 500 when it says nothing more precise (OpenAI's server_error).</summary>
    public static int StatusOf(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return 500;
            // OpenAI wraps the fields in "error"; an "event: error" may carry them at the top level.
            int found = Fields(ref reader, nested: true);
            if (found != 0) return found;
        }
        catch (JsonException)
        {
        }
        return 500;
    }

    /// <summary>Reads the status from the object the reader is in (or from its "error" object); 0 when it names none.</summary>
    private static int Fields(ref Utf8JsonReader reader, bool nested)
    {
        int status = 0, byType = 0, byCode = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (nested && reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) return Fields(ref reader, nested: false) is var inner and not 0 ? inner : 500;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int n) && n is >= 400 and <= 599) status = n;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) byType = ByName(reader.ValueSpan);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int n) && n is >= 400 and <= 599) byCode = n;
                else if (reader.TokenType == JsonTokenType.String) byCode = NumericCode(reader.ValueSpan) is var c and not 0 ? c : ByName(reader.ValueSpan);
                reader.Skip();
            }
            else RawJson.SkipValue(ref reader);
        }
        return status != 0 ? status : byCode != 0 ? byCode : byType;
    }

    private static int NumericCode(ReadOnlySpan<byte> code) =>
        System.Buffers.Text.Utf8Parser.TryParse(code, out int n, out int used) && used == code.Length && n is >= 400 and <= 599 ? n : 0;

    /// <summary>OpenAI's error types and codes (its error-codes guide) as the statuses it answers them with.</summary>
    private static int ByName(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("invalid_request_error"u8) ? 400
        : name.SequenceEqual("authentication_error"u8) || name.SequenceEqual("invalid_api_key"u8) ? 401
        : name.SequenceEqual("permission_error"u8) ? 403
        : name.SequenceEqual("not_found_error"u8) || name.SequenceEqual("model_not_found"u8) ? 404
        : name.SequenceEqual("rate_limit_error"u8) || name.SequenceEqual("rate_limit_exceeded"u8) || name.SequenceEqual("insufficient_quota"u8) ? 429
        : name.SequenceEqual("server_error"u8) ? 500
        : 0;
}
