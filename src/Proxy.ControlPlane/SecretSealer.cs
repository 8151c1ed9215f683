using System.Security.Cryptography;
using System.Text;

namespace Proxy.ControlPlane;

/// <summary>
/// Provider credentials at rest: AES-256-GCM under the master key, written into the stored object as
/// <c>${sealed:v1:BASE64(nonce | ciphertext | tag)}</c>, which the config loader opens like any other secret reference.
/// The object's kind and name are the associated data, so a sealed value copied onto another object does not open.
/// </summary>
public sealed class SecretSealer(byte[]? masterKey)
{
    private const string Version = "v1:";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public bool CanSeal => masterKey is not null;

    /// <summary>What the API and the audit log show instead of a sealed value.</summary>
    public const string Masked = "(sealed)";

    public static bool IsSealed(string value) => value.StartsWith("${sealed:", StringComparison.Ordinal);

    /// <summary>A reference to where the secret lives (<c>${NAME}</c>, <c>${file:PATH}</c>): not itself a secret.</summary>
    public static bool IsReference(string value) => value.StartsWith("${", StringComparison.Ordinal) && value.EndsWith('}') && !IsSealed(value);

    public string Seal(string plaintext, string context)
    {
        if (masterKey is null) throw new InvalidOperationException("no master key");
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(masterKey, TagBytes);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceBytes, plain.Length), output.AsSpan(NonceBytes + plain.Length), Encoding.UTF8.GetBytes(context));
        return "${sealed:" + Version + context + ":" + Convert.ToBase64String(output) + "}";
    }

    /// <summary>Opens the text after <c>sealed:</c> (<c>v1:CONTEXT:BASE64</c>).</summary>
    public string? Unseal(string sealedValue, out string? error)
    {
        error = null;
        if (masterKey is null)
        {
            error = "a sealed credential needs the control plane's master key (control_plane.master_key), and none is configured";
            return null;
        }
        int split = sealedValue.LastIndexOf(':');
        if (!sealedValue.StartsWith(Version, StringComparison.Ordinal) || split <= Version.Length)
        {
            error = "not a sealed credential this gateway can read (expected ${sealed:v1:...})";
            return null;
        }
        var context = sealedValue[Version.Length..split];
        byte[] data;
        try
        {
            data = Convert.FromBase64String(sealedValue[(split + 1)..]);
        }
        catch (FormatException)
        {
            error = "a sealed credential is damaged (not base64)";
            return null;
        }
        if (data.Length < NonceBytes + TagBytes)
        {
            error = "a sealed credential is damaged (too short)";
            return null;
        }
        var plain = new byte[data.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(masterKey, TagBytes);
            aes.Decrypt(data.AsSpan(0, NonceBytes), data.AsSpan(NonceBytes, plain.Length), data.AsSpan(NonceBytes + plain.Length), plain, Encoding.UTF8.GetBytes(context));
        }
        catch (AuthenticationTagMismatchException)
        {
            error = "a sealed credential does not open with this master key (another key sealed it, or it was altered)";
            return null;
        }
        return Encoding.UTF8.GetString(plain);
    }
}
