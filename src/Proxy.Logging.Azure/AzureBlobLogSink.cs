using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Proxy.Credentials;

namespace Proxy.Logging.Azure;

/// <summary>
/// Stores each log object with one Put Blob (block blob, <c>x-ms-blob-type: BlockBlob</c>) through the Blob service
/// REST API. Put Blob replaces an existing blob of the same name, so a retry under the same object name overwrites
/// instead of duplicating. Auth: Shared Key, SAS token, or managed identity bearer tokens.
/// </summary>
public sealed class AzureBlobLogSink : ILogSink, IDisposable
{
    /// <summary>Blob service version sent as <c>x-ms-version</c> (accepted by Azure and by Azurite 3.2x+).</summary>
    internal const string ServiceVersion = "2021-08-06";

    // Stored byte for byte as a gzip file, no Content-Encoding (same reasoning as the S3 sink).
    internal const string ContentType = "application/gzip";

    private readonly AzureBlobSinkOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsClient;
    private readonly Uri _containerUri;
    private readonly byte[]? _key;
    private readonly string? _sas;
    private readonly ManagedIdentityTokenSource? _tokens;

    public AzureBlobLogSink(AzureBlobSinkOptions options)
        : this(options, CreateHttpClient(), ownsClient: true, TimeProvider.System)
    {
    }

    /// <summary>Uses a caller-made client (a host that shares one); the caller disposes it.</summary>
    public AzureBlobLogSink(AzureBlobSinkOptions options, HttpClient httpClient)
        : this(options, httpClient, ownsClient: false, TimeProvider.System)
    {
    }

    internal AzureBlobLogSink(AzureBlobSinkOptions options, HttpClient httpClient, bool ownsClient, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClient);
        options.Validate();
        _options = options;
        _http = httpClient;
        _ownsClient = ownsClient;
        _containerUri = new Uri(options.ResolveEndpoint(), Uri.EscapeDataString(options.Container) + "/");
        if (!string.IsNullOrEmpty(options.AccountKey))
        {
            _key = Convert.FromBase64String(options.AccountKey);
        }
        else if (!string.IsNullOrEmpty(options.SasToken))
        {
            _sas = options.SasToken.TrimStart('?');
        }
        else
        {
            _tokens = new ManagedIdentityTokenSource(httpClient, new ManagedIdentityOptions
            {
                Resource = options.ManagedIdentityResource,
                ClientId = options.ManagedIdentityClientId,
                Endpoint = options.ManagedIdentityEndpoint,
                IdentityHeader = options.ManagedIdentityHeader,
                Timeout = options.RequestTimeout,
            }, time);
        }
    }

    public string Name => "azure-blob";

    public AzureBlobSinkOptions Options => _options;

    internal ManagedIdentityTokenSource? Tokens => _tokens;

    public async Task UploadAsync(string objectName, ReadOnlyMemory<byte> gzippedJsonLines, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(objectName);
        var account = _options.AccountName;
        var container = _options.Container;
        var blob = objectName.TrimStart('/');
        if (blob.Length == 0)
        {
            throw new ArgumentException("object name is only slashes", nameof(objectName));
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_options.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            using var request = await CreatePutAsync(blob, gzippedJsonLines, cts.Token).ConfigureAwait(false);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            var what = ex is OperationCanceledException or TimeoutException
                ? $"timed out after {_options.RequestTimeout.TotalSeconds:0.#}s, no HTTP response"
                : ex is TokenUnavailableException
                    ? "managed identity token unavailable"
                    : $"no HTTP response ({ex.GetType().Name})";
            throw new AzureBlobLogSinkException(account, container, blob, null, null,
                $"Azure Blob upload to account '{account}' container '{container}' blob '{blob}' at {_options.ResolveEndpoint()} failed: {what}: {Redact(Describe(ex))}", ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var errorCode = response.Headers.TryGetValues("x-ms-error-code", out var codes) ? codes.FirstOrDefault() : null;
            string detail;
            try
            {
                detail = ErrorMessage(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                detail = "";
            }

            var status = response.StatusCode;
            throw new AzureBlobLogSinkException(account, container, blob, status, errorCode,
                $"Azure Blob upload to account '{account}' container '{container}' blob '{blob}' failed: HTTP {(int)status} {status}" +
                (string.IsNullOrEmpty(errorCode) ? "" : $" {errorCode}") +
                (string.IsNullOrEmpty(detail) ? "" : $": {Redact(detail)}") +
                (status == HttpStatusCode.Forbidden ? $" (auth: {AuthMode()})" : ""), null);
        }
    }

    private async Task<HttpRequestMessage> CreatePutAsync(string blob, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        var uri = BlobUri(blob);
        var request = new HttpRequestMessage(HttpMethod.Put, uri)
        {
            Content = new ReadOnlyMemoryContent(body),
        };
        try
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
            request.Content.Headers.ContentLength = body.Length;
            request.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
            await AuthorizeAsync(request, ct).ConfigureAwait(false);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>Adds x-ms-date / x-ms-version and the auth of the configured mode. Also used by tests for their
    /// own calls (create container, read back).</summary>
    internal async ValueTask AuthorizeAsync(HttpRequestMessage request, CancellationToken ct)
    {
        request.Headers.TryAddWithoutValidation("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("x-ms-version", ServiceVersion);
        if (_key is not null)
        {
            SharedKeySigner.Authorize(request, _options.AccountName, _key);
        }
        else if (_tokens is not null)
        {
            string token;
            try
            {
                token = await _tokens.GetTokenAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                throw new TokenUnavailableException(
                    $"token request to {_tokens.TokenUri.GetLeftPart(UriPartial.Path)} failed" +
                    (ex is OperationCanceledException or TimeoutException ? " (timed out)" : ""), ex);
            }

            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
    }

    internal Uri BlobUri(string blob)
    {
        // Each path segment escaped; "/" stays a virtual directory separator.
        var path = string.Join('/', blob.Split('/').Select(Uri.EscapeDataString));
        var uri = new Uri(_containerUri, path);
        return _sas is null ? uri : new Uri(uri + "?" + _sas);
    }

    internal Uri ContainerUri => _containerUri;

    public void Dispose()
    {
        _tokens?.Dispose();
        if (_ownsClient)
        {
            _http.Dispose();
        }
    }

    private static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        // Per-request timeouts come from RequestTimeout via linked tokens.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private sealed class TokenUnavailableException(string message, Exception inner) : Exception(message, inner);

    private string AuthMode() => _key is not null ? "shared key" : _sas is not null ? "SAS token" : "managed identity";

    /// <summary>Last line of defence: no secret of any mode may reach a message.</summary>
    private string Redact(string text)
    {
        foreach (var secret in new[] { _options.AccountKey, _sas, _options.ManagedIdentityHeader })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        if (_sas is not null)
        {
            var sig = _sas.Split('&').FirstOrDefault(p => p.StartsWith("sig=", StringComparison.Ordinal));
            if (sig is { Length: > 4 })
            {
                text = text.Replace(sig[4..], "***", StringComparison.Ordinal).Replace(Uri.UnescapeDataString(sig[4..]), "***", StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary>The first line of the XML &lt;Message&gt; of a storage error, at most 300 characters.</summary>
    private static string ErrorMessage(string body)
    {
        var start = body.IndexOf("<Message>", StringComparison.Ordinal);
        if (start < 0)
        {
            return "";
        }

        start += "<Message>".Length;
        var end = body.IndexOf("</Message>", start, StringComparison.Ordinal);
        var message = end < 0 ? body[start..] : body[start..end];
        var newline = message.IndexOfAny(['\r', '\n']);
        if (newline >= 0)
        {
            message = message[..newline];
        }

        message = WebUtility.HtmlDecode(message).Trim();
        return message.Length > 300 ? message[..300] : message;
    }

    private static string Describe(Exception ex)
    {
        var sb = new StringBuilder(ex.Message);
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!string.IsNullOrEmpty(inner.Message) && !sb.ToString().Contains(inner.Message, StringComparison.Ordinal))
            {
                sb.Append(" -> ").Append(inner.Message);
            }
        }

        return sb.ToString();
    }
}
