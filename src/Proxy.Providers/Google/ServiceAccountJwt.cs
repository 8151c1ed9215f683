using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Proxy.Providers.Google;

/// <summary>
/// The signed assertion of Google's service-account flow (RFC 7523, JWT bearer grant): header
/// <c>{"alg":"RS256","typ":"JWT","kid":private_key_id}</c>, claims <c>iss</c> = client_email, <c>scope</c>,
/// <c>aud</c> = the key's token_uri, <c>iat</c> = now and <c>exp</c> = now + 1 hour (the longest Google accepts),
/// signed RSASSA-PKCS1-v1_5 with SHA-256 by the key's private key.
/// </summary>
public static class ServiceAccountJwt
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public static string Create(ServiceAccountKey key, string scope, DateTimeOffset now)
    {
        var header = Json(w =>
        {
            w.WriteString("alg"u8, "RS256");
            w.WriteString("typ"u8, "JWT");
            if (key.PrivateKeyId is not null) w.WriteString("kid"u8, key.PrivateKeyId);
        });
        long iat = now.ToUnixTimeSeconds();
        var claims = Json(w =>
        {
            w.WriteString("iss"u8, key.ClientEmail);
            w.WriteString("scope"u8, scope);
            w.WriteString("aud"u8, key.TokenUri.ToString());
            w.WriteNumber("iat"u8, iat);
            w.WriteNumber("exp"u8, iat + (long)Lifetime.TotalSeconds);
        });

        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(claims);
        using var rsa = key.CreateRsa();
        var signature = rsa.SignData(System.Text.Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    private static byte[] Json(Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            fields(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
