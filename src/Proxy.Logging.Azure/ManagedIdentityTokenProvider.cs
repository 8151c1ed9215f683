using System.Globalization;
using System.Text.Json;

namespace Proxy.Logging.Azure;

/// <summary>
/// Bearer tokens for <c>https://storage.azure.com/</c> from the managed identity endpoint: IMDS
/// (<c>GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&amp;resource=...</c>,
/// header <c>Metadata: true</c>) or, on App Service / Container Apps / Functions, <c>IDENTITY_ENDPOINT</c> with
/// header <c>X-IDENTITY-HEADER: $IDENTITY_HEADER</c> and api-version 2019-08-01. The token is cached and refreshed
/// <see cref="RefreshMargin"/> before it expires, with at most one refresh in flight.
/// </summary>
internal sealed class ManagedIdentityTokenProvider : IDisposable
{
    internal const string ImdsEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token";
    internal static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly HttpClient _http;
    private readonly Uri _tokenUri;
    private readonly string? _identityHeader;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile CachedToken? _cached;
    private int _fetches;

    internal ManagedIdentityTokenProvider(HttpClient http, AzureBlobSinkOptions options, TimeProvider time)
    {
        _http = http;
        _time = time;
        _timeout = options.RequestTimeout;
        string endpoint;
        if (!string.IsNullOrEmpty(options.ManagedIdentityEndpoint))
        {
            endpoint = options.ManagedIdentityEndpoint!;
            _identityHeader = string.IsNullOrEmpty(options.ManagedIdentityHeader) ? null : options.ManagedIdentityHeader;
        }
        else if (Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT") is { Length: > 0 } envEndpoint
                 && Environment.GetEnvironmentVariable("IDENTITY_HEADER") is { Length: > 0 } envHeader)
        {
            endpoint = envEndpoint;
            _identityHeader = envHeader;
        }
        else
        {
            endpoint = ImdsEndpoint;
        }

        var query = (_identityHeader is null ? "api-version=2018-02-01" : "api-version=2019-08-01")
            + "&resource=" + Uri.EscapeDataString(options.ManagedIdentityResource)
            + (string.IsNullOrEmpty(options.ManagedIdentityClientId) ? "" : "&client_id=" + Uri.EscapeDataString(options.ManagedIdentityClientId));
        _tokenUri = new Uri(endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query);
    }

    /// <summary>How many token requests were sent (tests check the cache and the single refresh).</summary>
    internal int Fetches => Volatile.Read(ref _fetches);

    internal Uri TokenUri => _tokenUri;

    internal async ValueTask<string> GetTokenAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var cached = _cached;
        if (cached is not null && now < cached.ExpiresOn - RefreshMargin)
        {
            return cached.Token;
        }

        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Another caller may have refreshed while this one waited.
            now = _time.GetUtcNow();
            cached = _cached;
            if (cached is not null && now < cached.ExpiresOn - RefreshMargin)
            {
                return cached.Token;
            }

            try
            {
                var fresh = await FetchAsync(ct).ConfigureAwait(false);
                _cached = fresh;
                return fresh.Token;
            }
            catch (Exception) when (!ct.IsCancellationRequested && cached is not null && _time.GetUtcNow() < cached.ExpiresOn - TimeSpan.FromSeconds(30))
            {
                // The endpoint hiccuped inside the refresh window: the old token is still good for a while.
                return cached.Token;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<CachedToken> FetchAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _fetches);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, _tokenUri);
        if (_identityHeader is null)
        {
            request.Headers.TryAddWithoutValidation("Metadata", "true");
        }
        else
        {
            request.Headers.TryAddWithoutValidation("X-IDENTITY-HEADER", _identityHeader);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"managed identity token request to {Describe()} timed out after {_timeout.TotalSeconds:0.#}s");
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // The error body (error / error_description) carries no secret.
                throw new HttpRequestException(
                    $"managed identity token request to {Describe()} failed: HTTP {(int)response.StatusCode} {response.StatusCode}: {ErrorText(body)}",
                    null, response.StatusCode);
            }

            return Parse(body, _time.GetUtcNow());
        }
    }

    private string Describe() => _tokenUri.GetLeftPart(UriPartial.Path);

    /// <summary>Reads access_token and expires_on (epoch seconds, as a string or number; or a date string from
    /// older App Service versions), falling back to expires_in. Never echoes the token.</summary>
    internal static CachedToken Parse(ReadOnlySpan<byte> json, DateTimeOffset now)
    {
        string? token = null;
        DateTimeOffset? expiresOn = null;
        long? expiresIn = null;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException("managed identity token response is not a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "access_token" when reader.TokenType == JsonTokenType.String:
                    token = reader.GetString();
                    break;
                case "expires_on":
                    expiresOn = ReadTime(ref reader);
                    break;
                case "expires_in":
                    expiresIn = ReadLong(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (string.IsNullOrEmpty(token))
        {
            throw new FormatException("managed identity token response has no access_token");
        }

        var expiry = expiresOn ?? (expiresIn is { } s ? now.AddSeconds(s) : (DateTimeOffset?)null)
            ?? throw new FormatException("managed identity token response has neither expires_on nor expires_in");
        return new CachedToken(token, expiry);
    }

    private static DateTimeOffset? ReadTime(ref Utf8JsonReader reader)
    {
        if (ReadLong(ref reader) is { } epoch)
        {
            return DateTimeOffset.FromUnixTimeSeconds(epoch);
        }

        return reader.TokenType == JsonTokenType.String
               && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : (DateTimeOffset?)null;
    }

    private static long? ReadLong(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var n) => n,
        JsonTokenType.String when long.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };

    private static string ErrorText(byte[] body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            string? error = null, description = null;
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    if (name == "error" && reader.TokenType == JsonTokenType.String)
                    {
                        error = reader.GetString();
                    }
                    else if (name == "error_description" && reader.TokenType == JsonTokenType.String)
                    {
                        description = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }

            var text = string.Join(": ", new[] { error, description }.Where(s => !string.IsNullOrEmpty(s)));
            return text.Length == 0 ? "(no error detail)" : text.Length > 300 ? text[..300] : text;
        }
        catch (JsonException)
        {
            return "(non-JSON error body)";
        }
    }

    public void Dispose() => _refresh.Dispose();

    internal sealed record CachedToken(string Token, DateTimeOffset ExpiresOn)
    {
        // Never print the token.
        public override string ToString() => $"token(expires {ExpiresOn:O})";
    }
}
