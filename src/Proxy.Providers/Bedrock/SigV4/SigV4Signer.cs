using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Proxy.Providers.Bedrock.Credentials;

namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>
/// AWS Signature Version 4 (header form), written from the specification and checked against AWS's published test
/// suite and against AWSSDK.Core: canonical request, string to sign, derived key, signature. The canonical request
/// is built in pooled memory and hashed on spans; the derived key is cached per day, region and service.
/// </summary>
public static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The x-amz-date form of a time: 20150830T123600Z.</summary>
    public static string AmzDate(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Lower-case hex SHA-256 of a body, for the canonical request and x-amz-content-sha256.</summary>
    public static string PayloadHash(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        Span<byte> hex = stackalloc byte[64];
        AwsUriEncoding.WriteLowerHex(hash, hex);
        return Encoding.ASCII.GetString(hex);
    }

    /// <summary>The Authorization header value for <paramref name="request"/>.</summary>
    public static string Authorization(in SigV4Request request, AwsCredentials credentials, in SigV4Scope scope, SigningKeyCache? keys = null)
    {
        using var canonical = new PooledWriter(1024);
        var signedHeaders = WriteCanonicalRequest(request, canonical);
        Span<byte> signature = stackalloc byte[64];
        ComputeSignature(canonical.Written, credentials.SecretAccessKey, scope, keys, signature, stringToSign: null);
        var date = scope.SignedAt.UtcDateTime;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Algorithm} Credential={credentials.AccessKeyId}/{date:yyyyMMdd}/{scope.Region}/{scope.Service}/aws4_request, SignedHeaders={signedHeaders}, Signature={Encoding.ASCII.GetString(signature)}");
    }

    /// <summary>The canonical request and string to sign as text, for tests against the published vectors.</summary>
    internal static (string CanonicalRequest, string StringToSign, string Signature) Explain(in SigV4Request request, AwsCredentials credentials, in SigV4Scope scope)
    {
        using var canonical = new PooledWriter(1024);
        WriteCanonicalRequest(request, canonical);
        using var stringToSign = new PooledWriter(256);
        Span<byte> signature = stackalloc byte[64];
        ComputeSignature(canonical.Written, credentials.SecretAccessKey, scope, null, signature, stringToSign);
        return (Encoding.UTF8.GetString(canonical.Written), Encoding.UTF8.GetString(stringToSign.Written), Encoding.ASCII.GetString(signature));
    }

    /// <summary>Writes the canonical request; returns the signed-headers list (lower-case names joined by ';').</summary>
    private static string WriteCanonicalRequest(in SigV4Request request, PooledWriter output)
    {
        output.Write(request.Method);
        output.Write((byte)'\n');
        WriteCanonicalPath(request.Path, request.NormalizePath, output);
        output.Write((byte)'\n');
        CanonicalQuery.Write(request.Query, output);
        output.Write((byte)'\n');
        var signedHeaders = CanonicalHeaders.Write(request.Headers, output);
        output.Write((byte)'\n');
        output.Write(signedHeaders);
        output.Write((byte)'\n');
        output.Write(request.PayloadHash);
        return signedHeaders;
    }

    private static void WriteCanonicalPath(string path, bool normalize, PooledWriter output)
    {
        if (path.Length == 0)
        {
            output.Write((byte)'/');
            return;
        }
        AwsUriEncoding.Write(output, normalize && NeedsNormalizing(path) ? Normalize(path) : path, keepSlash: true);
    }

    private static bool NeedsNormalizing(string path) =>
        path.Contains("//", StringComparison.Ordinal) || path.Contains("/.", StringComparison.Ordinal) || path[0] != '/';

    /// <summary>RFC 3986 dot-segment removal plus empty-segment removal, keeping a trailing slash, as AWS's suite expects.</summary>
    private static string Normalize(string path)
    {
        var kept = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".") continue;
            if (segment == "..")
            {
                if (kept.Count > 0) kept.RemoveAt(kept.Count - 1);
                continue;
            }
            kept.Add(segment);
        }
        var result = "/" + string.Join('/', kept);
        return path.EndsWith('/') && kept.Count > 0 ? result + "/" : result;
    }

    private static void ComputeSignature(ReadOnlySpan<byte> canonicalRequest, string secret, in SigV4Scope scope, SigningKeyCache? keys,
        Span<byte> signatureHex, PooledWriter? stringToSign)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(canonicalRequest, hash);

        var date = scope.SignedAt.UtcDateTime;
        using var sts = stringToSign is null ? new PooledWriter(256) : null;
        var toSign = stringToSign ?? sts!;
        toSign.Write(Algorithm);
        toSign.Write((byte)'\n');
        Span<char> stamp = stackalloc char[16];
        date.TryFormat(stamp, out _, "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        toSign.Write(stamp);
        toSign.Write((byte)'\n');
        toSign.Write(stamp[..8]);
        toSign.Write((byte)'/');
        toSign.Write(scope.Region);
        toSign.Write((byte)'/');
        toSign.Write(scope.Service);
        toSign.Write("/aws4_request\n"u8);
        AwsUriEncoding.WriteLowerHex(hash, toSign.GetSpan(64));
        toSign.Advance(64);

        Span<byte> key = stackalloc byte[32];
        (keys ?? SigningKeyCache.Shared).Get(secret, stamp[..8], scope.Region, scope.Service, key);
        Span<byte> signature = stackalloc byte[32];
        HMACSHA256.HashData(key, toSign.Written, signature);
        AwsUriEncoding.WriteLowerHex(signature, signatureHex);
    }
}
