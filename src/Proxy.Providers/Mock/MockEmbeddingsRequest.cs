using System.Text.Json;

namespace Proxy.Providers.Mock;

/// <summary>
/// An embeddings body checked the way the real API checks <c>input</c>: a non-empty string, or a non-empty array (at most
/// 2048 items) of non-empty strings, of integer token ids, or of non-empty token id arrays. The API answers every other
/// <c>input</c> (an object, null, a number, "", [], a mixed array) with one sentence that names no param and no code.
/// </summary>
internal static class MockEmbeddingsRequest
{
    private const int MaxInputs = 2048;

    public static MockFault? Check(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, MockValidation.ReaderOptions);
        reader.Read();
        bool hasInput = false, valid = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isInput = reader.ValueTextEquals("input"u8);
            reader.Read();
            if (isInput)
            {
                hasInput = true;
                valid &= Input(ref reader);
            }
            reader.Skip();
        }
        if (!hasInput) return new MockFault(0, "'input' is a required property", null, null);
        return valid ? null : new MockFault(0, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null, null);
    }

    /// <summary>Leaves the reader on the value's last token, or on its first when it is an object (the caller skips it).</summary>
    private static bool Input(ref Utf8JsonReader reader)
    {
        // An escaped string is never empty, so the raw length says whether the text is.
        if (reader.TokenType == JsonTokenType.String) return reader.ValueSpan.Length > 0;
        if (reader.TokenType != JsonTokenType.StartArray) return false;
        // The first item says which of the three array forms this is; every item must be of that form.
        var kind = JsonTokenType.None;
        int count = 0;
        bool valid = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count++ == 0) kind = reader.TokenType;
            valid &= reader.TokenType == kind && kind switch
            {
                JsonTokenType.String => reader.ValueSpan.Length > 0,
                JsonTokenType.Number => MockFaults.IsInteger(reader.ValueSpan),
                JsonTokenType.StartArray => TokenIds(ref reader),
                _ => false,
            };
            // Past an item left unread (an object, or an array of the wrong form); a no-op on the others.
            reader.Skip();
        }
        return valid && count is > 0 and <= MaxInputs;
    }

    /// <summary>One input as token ids: a non-empty array of integers. Leaves the reader on its end.</summary>
    private static bool TokenIds(ref Utf8JsonReader reader)
    {
        int count = 0;
        bool valid = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            count++;
            valid &= reader.TokenType == JsonTokenType.Number && MockFaults.IsInteger(reader.ValueSpan);
            reader.Skip();
        }
        return valid && count > 0;
    }
}
