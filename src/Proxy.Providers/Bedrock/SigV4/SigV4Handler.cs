using System.Buffers;
using Proxy.Providers.Bedrock.Credentials;

namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>A request body the signer can hash without copying it.</summary>
public interface ISignablePayload
{
    ReadOnlyMemory<byte> Payload { get; }
}

/// <summary>
/// Signs every request with SigV4 just before it goes on the wire: x-amz-date, x-amz-content-sha256 (AWSSDK.Core sends
/// it for every service, bedrock-runtime included), x-amz-security-token for temporary credentials, then Authorization.
/// Credentials are fetched per request from a source that caches them, so a refresh never needs a rebuilt handler.
/// </summary>
public sealed class SigV4Handler(IAwsCredentialSource credentials, string region, string service, TimeProvider time, HttpMessageHandler inner)
    : DelegatingHandler(inner)
{
    /// <summary>
    /// Headers left out of the signature: hop-by-hop ones a proxy may rewrite, ones the handler adds after signing
    /// (Content-Length for a computed body, User-Agent), and Authorization itself.
    /// </summary>
    private static readonly HashSet<string> Unsigned = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "user-agent", "expect", "connection", "keep-alive", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade", "content-length", "x-amzn-trace-id",
    };

    private readonly SigningKeyCache _keys = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var keys = await credentials.GetAsync(cancellationToken).ConfigureAwait(false);
        var payload = request.Content switch
        {
            null => ReadOnlyMemory<byte>.Empty,
            ISignablePayload signable => signable.Payload,
            var other => await other.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false),
        };
        Sign(request, payload.Span, keys, time.GetUtcNow());
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    internal void Sign(HttpRequestMessage request, ReadOnlySpan<byte> payload, AwsCredentials keys, DateTimeOffset now)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("the request has no URI");
        var headers = request.Headers;
        // A retried message must not carry the previous attempt's signature.
        headers.Remove("Authorization");
        headers.Remove("X-Amz-Date");
        headers.Remove("X-Amz-Content-SHA256");
        headers.Remove("X-Amz-Security-Token");
        var payloadHash = SigV4Signer.PayloadHash(payload);
        headers.TryAddWithoutValidation("X-Amz-Date", SigV4Signer.AmzDate(now));
        headers.TryAddWithoutValidation("X-Amz-Content-SHA256", payloadHash);
        if (keys.SessionToken is not null) headers.TryAddWithoutValidation("X-Amz-Security-Token", keys.SessionToken);

        var signed = ArrayPool<SigV4Header>.Shared.Rent(16);
        int count = 0;
        try
        {
            if (headers.Host is null) Add(ref signed, ref count, new SigV4Header("host", uri.IsDefaultPort ? uri.IdnHost : uri.IdnHost + ":" + uri.Port));
            foreach (var (name, values) in headers.NonValidated)
            {
                if (!Unsigned.Contains(name)) Add(ref signed, ref count, new SigV4Header(name, values.ToString()));
            }
            if (request.Content is { } content)
            {
                foreach (var (name, values) in content.Headers.NonValidated)
                {
                    if (!Unsigned.Contains(name)) Add(ref signed, ref count, new SigV4Header(name, values.ToString()));
                }
            }
            var description = new SigV4Request
            {
                Method = request.Method.Method,
                Path = uri.AbsolutePath,
                Query = uri.Query.Length > 1 ? uri.Query[1..] : "",
                Headers = signed.AsSpan(0, count),
                PayloadHash = payloadHash,
                NormalizePath = true,
            };
            headers.TryAddWithoutValidation("Authorization", SigV4Signer.Authorization(description, keys, new SigV4Scope(region, service, now), _keys));
        }
        finally
        {
            ArrayPool<SigV4Header>.Shared.Return(signed, clearArray: true);
        }
    }

    private static void Add(ref SigV4Header[] array, ref int count, SigV4Header header)
    {
        if (count == array.Length)
        {
            var bigger = ArrayPool<SigV4Header>.Shared.Rent(array.Length * 2);
            array.AsSpan().CopyTo(bigger);
            ArrayPool<SigV4Header>.Shared.Return(array, clearArray: true);
            array = bigger;
        }
        array[count++] = header;
    }
}
