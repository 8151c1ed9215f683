using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Proxy.Providers.Tests.Google;

/// <summary>A service-account key made for the test (fresh RSA key), written as Google issues it, and JWT checks with its public key.</summary>
internal sealed class TestServiceAccount : IDisposable
{
    public const string Email = "gateway@test-project.iam.gserviceaccount.com";
    public const string KeyId = "0123456789abcdef";

    private readonly string _dir = Directory.CreateTempSubdirectory("gv-sa-").FullName;

    public TestServiceAccount(string tokenUri)
    {
        TokenUri = tokenUri;
        Rsa = RSA.Create(2048);
        Path = System.IO.Path.Combine(_dir, "key.json");
        Write();
    }

    public RSA Rsa { get; private set; }

    public string Path { get; }

    public string TokenUri { get; }

    /// <summary>Writes the key file (again), as Google's JSON: PKCS#8 PEM with \n escapes.</summary>
    public void Write()
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = "test-project",
            ["private_key_id"] = KeyId,
            ["private_key"] = Rsa.ExportPkcs8PrivateKeyPem() + "\n",
            ["client_email"] = Email,
            ["client_id"] = "1234567890",
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = TokenUri,
        });
        File.WriteAllText(Path, json);
    }

    /// <summary>A new key pair in the same file, as a rotated Kubernetes secret would be.</summary>
    public void Rotate()
    {
        Rsa.Dispose();
        Rsa = RSA.Create(2048);
        Write();
    }

    /// <summary>Checks the RS256 signature with the public key and returns the decoded header and claims.</summary>
    public static (JsonElement Header, JsonElement Claims) Verify(string jwt, RSA publicKey)
    {
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        Assert.True(publicKey.VerifyData(signed, Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "the JWT signature does not verify with the service account's public key");
        return (JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement, JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement);
    }

    public void Dispose()
    {
        Rsa.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>An in-memory HTTP endpoint: records every request and answers with the test's handler.</summary>
internal sealed class FakeEndpoint(Func<HttpRequestMessage, string, Task<HttpResponseMessage>> answer) : HttpMessageHandler
{
    public List<(HttpRequestMessage Request, string Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Requests) Requests.Add((request, body));
        return await answer(request, body);
    }

    public static HttpResponseMessage Json(int status, string json) =>
        new((System.Net.HttpStatusCode)status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static string Token(string value, int expiresIn = 3599) => $$"""{"access_token":"{{value}}","expires_in":{{expiresIn}},"token_type":"Bearer"}""";
}
