namespace Proxy.Providers.Google;

/// <summary>One token request: bounded in time, failures turned into <see cref="GoogleAuthException"/> that name the endpoint.</summary>
internal static class TokenHttp
{
    public static async Task<byte[]> SendAsync(HttpMessageInvoker http, HttpRequestMessage request, string where, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, cts.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new GoogleAuthException($"{where} answered HTTP {(int)response.StatusCode}: {TokenResponse.ErrorText(body)}");
            return body;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new GoogleAuthException($"{where} did not answer within {timeout.TotalSeconds:0}s");
        }
        catch (HttpRequestException e)
        {
            throw new GoogleAuthException($"{where} could not be reached: {e.Message}", e);
        }
    }
}
