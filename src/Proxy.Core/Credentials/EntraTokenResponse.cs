using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Proxy.Credentials;

/// <summary>
/// Sends a token request to a Microsoft Entra ID endpoint (the managed identity endpoint or the v2.0 token endpoint)
/// and reads its answer. Both answer <c>{"access_token", "expires_on" | "expires_in", ...}</c>, and errors as
/// <c>{"error", "error_description"}</c>.
/// </summary>
public static class EntraTokenResponse
{
    /// <summary>Sends <paramref name="request"/> with its own timeout; <paramref name="what"/> names the flow in errors.</summary>
    public static async Task<AccessToken> SendAsync(HttpMessageInvoker http, HttpRequestMessage request, string what, string endpoint,
        TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{what} token request to {endpoint} timed out after {timeout.TotalSeconds:0.#}s");
        }

        using (response)
        {
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"{what} token request to {endpoint} timed out after {timeout.TotalSeconds:0.#}s");
            }
            if (!response.IsSuccessStatusCode)
            {
                // The error body (error / error_description) carries no secret.
                throw new HttpRequestException(
                    $"{what} token request to {endpoint} failed: HTTP {(int)response.StatusCode} {response.StatusCode}: {ErrorText(body)}",
                    null, response.StatusCode);
            }
            try
            {
                return Parse(body, time.GetUtcNow());
            }
            catch (FormatException e)
            {
                throw new HttpRequestException($"{what} token request to {endpoint} failed: {e.Message}", e, HttpStatusCode.OK);
            }
        }
    }

    /// <summary>Reads access_token and expires_on (epoch seconds, as a string or number; or a date string from
    /// older App Service versions), falling back to expires_in. Never echoes the token.</summary>
    public static AccessToken Parse(ReadOnlySpan<byte> json, DateTimeOffset now)
    {
        string? token = null;
        DateTimeOffset? expiresOn = null;
        long? expiresIn = null;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new FormatException("the token response is not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("access_token"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) token = reader.GetString();
                }
                else if (reader.ValueTextEquals("expires_on"u8))
                {
                    reader.Read();
                    expiresOn = ReadTime(ref reader);
                }
                else if (reader.ValueTextEquals("expires_in"u8))
                {
                    reader.Read();
                    expiresIn = ReadLong(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            throw new FormatException("the token response is not valid JSON");
        }

        if (string.IsNullOrEmpty(token)) throw new FormatException("the token response has no access_token");
        var expiry = expiresOn ?? (expiresIn is { } s ? now.AddSeconds(s) : (DateTimeOffset?)null)
            ?? throw new FormatException("the token response has neither expires_on nor expires_in");
        return new AccessToken(token, expiry);
    }

    private static DateTimeOffset? ReadTime(ref Utf8JsonReader reader)
    {
        if (ReadLong(ref reader) is { } epoch) return DateTimeOffset.FromUnixTimeSeconds(epoch);
        return reader.TokenType == JsonTokenType.String
               && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : null;
    }

    private static long? ReadLong(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var n) => n,
        JsonTokenType.String when long.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };

    /// <summary>"error: error_description" of an error answer, at most 300 characters.</summary>
    public static string ErrorText(ReadOnlySpan<byte> body)
    {
        string? error = null, description = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isError = reader.ValueTextEquals("error"u8), isDescription = reader.ValueTextEquals("error_description"u8);
                    reader.Read();
                    if (isError && reader.TokenType == JsonTokenType.String) error = reader.GetString();
                    else if (isDescription && reader.TokenType == JsonTokenType.String) description = reader.GetString();
                    else reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return "(non-JSON error body)";
        }
        var text = string.IsNullOrEmpty(error) ? description ?? "" : string.IsNullOrEmpty(description) ? error : error + ": " + description;
        return text.Length == 0 ? "(no error detail)" : text.Length > 300 ? text[..300] : text;
    }
}
