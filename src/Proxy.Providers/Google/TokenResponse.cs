using System.Text.Json;

namespace Proxy.Providers.Google;

/// <summary>
/// Reads Google's token answers: <c>{"access_token","expires_in","token_type"}</c> from the OAuth2 token endpoint and the
/// metadata server alike, and the OAuth2 error shape <c>{"error","error_description"}</c> for failures.
/// </summary>
internal static class TokenResponse
{
    public static (string Token, TimeSpan Lifetime) Parse(ReadOnlySpan<byte> json, string source)
    {
        string? token = null;
        long? expiresIn = null;
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new GoogleAuthException($"the token answer from {source} is not a JSON object");
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var name = r;
                r.Read();
                if (name.ValueTextEquals("access_token"u8) && r.TokenType == JsonTokenType.String) token = r.GetString();
                else if (name.ValueTextEquals("expires_in"u8) && r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var s)) expiresIn = s;
                else r.Skip();
            }
        }
        catch (JsonException)
        {
            throw new GoogleAuthException($"the token answer from {source} is not valid JSON");
        }
        if (string.IsNullOrEmpty(token)) throw new GoogleAuthException($"the token answer from {source} has no access_token");
        if (expiresIn is not > 0) throw new GoogleAuthException($"the token answer from {source} has no expires_in");
        return (token, TimeSpan.FromSeconds(expiresIn.Value));
    }

    /// <summary>"error: error_description" from an OAuth2 error body, or a short note; never the body itself beyond those fields.</summary>
    public static string ErrorText(ReadOnlySpan<byte> json)
    {
        string? error = null, description = null;
        try
        {
            var r = new Utf8JsonReader(json);
            if (r.Read() && r.TokenType == JsonTokenType.StartObject)
            {
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    var name = r;
                    r.Read();
                    if (name.ValueTextEquals("error"u8) && r.TokenType == JsonTokenType.String) error = r.GetString();
                    else if (name.ValueTextEquals("error_description"u8) && r.TokenType == JsonTokenType.String) description = r.GetString();
                    else r.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return "(a body that is not JSON)";
        }
        var text = error is null ? description : description is null ? error : error + ": " + description;
        return string.IsNullOrEmpty(text) ? "(no error detail)" : text.Length > 300 ? text[..300] : text;
    }
}
