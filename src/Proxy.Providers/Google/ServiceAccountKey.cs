using System.Security.Cryptography;
using System.Text.Json;

namespace Proxy.Providers.Google;

/// <summary>
/// The fields of a service-account JSON key file that the token flow needs. The private key stays in this object
/// only for as long as it takes to sign one assertion.
/// </summary>
public sealed class ServiceAccountKey
{
    public const string DefaultTokenUri = "https://oauth2.googleapis.com/token";

    public required string ClientEmail { get; init; }

    /// <summary>PEM (PKCS#8 "BEGIN PRIVATE KEY", as Google issues it).</summary>
    public required string PrivateKey { get; init; }

    public string? PrivateKeyId { get; init; }

    public required Uri TokenUri { get; init; }

    public override string ToString() => $"service account {ClientEmail}";

    /// <summary>Reads a key file; throws <see cref="GoogleAuthException"/> naming what is wrong (never the key).</summary>
    public static ServiceAccountKey Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GoogleAuthException($"cannot read the service account key file {path}: {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static ServiceAccountKey Parse(ReadOnlySpan<byte> json, string source)
    {
        string? type = null, email = null, key = null, keyId = null, tokenUri = null;
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new GoogleAuthException($"{source} is not a JSON object");
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var name = r;
                r.Read();
                if (r.TokenType != JsonTokenType.String) r.Skip();
                else if (name.ValueTextEquals("type"u8)) type = r.GetString();
                else if (name.ValueTextEquals("client_email"u8)) email = r.GetString();
                else if (name.ValueTextEquals("private_key"u8)) key = r.GetString();
                else if (name.ValueTextEquals("private_key_id"u8)) keyId = r.GetString();
                else if (name.ValueTextEquals("token_uri"u8)) tokenUri = r.GetString();
            }
        }
        catch (JsonException)
        {
            throw new GoogleAuthException($"{source} is not valid JSON");
        }
        if (type != "service_account")
            throw new GoogleAuthException($"{source} is not a service account key (type is '{type}'; user credentials and external accounts are not supported)");
        if (string.IsNullOrEmpty(email)) throw new GoogleAuthException($"{source} has no client_email");
        if (string.IsNullOrEmpty(key)) throw new GoogleAuthException($"{source} has no private_key");
        if (!Uri.TryCreate(string.IsNullOrEmpty(tokenUri) ? DefaultTokenUri : tokenUri, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new GoogleAuthException($"{source} has a token_uri that is not an http(s) URL");
        var result = new ServiceAccountKey { ClientEmail = email, PrivateKey = key, PrivateKeyId = keyId, TokenUri = uri };
        using (result.CreateRsa())
        {
            // Imported once here so a broken key is reported when the config loads, not at the first request.
        }
        return result;
    }

    /// <summary>The RSA key to sign with; the caller disposes it.</summary>
    public RSA CreateRsa()
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(PrivateKey);
            return rsa;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new GoogleAuthException($"the private_key of {this} is not a PEM RSA private key");
        }
    }
}
