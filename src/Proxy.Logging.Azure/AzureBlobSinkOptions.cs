namespace Proxy.Logging.Azure;

/// <summary>
/// Settings of <see cref="AzureBlobLogSink"/>. Plain settable properties so configuration binding (including the
/// source-generated binder) can fill it. Exactly one auth mode: <see cref="AccountKey"/> (Shared Key),
/// <see cref="SasToken"/>, or <see cref="ManagedIdentity"/>.
/// </summary>
public sealed class AzureBlobSinkOptions
{
    /// <summary>Storage account name (required; it is also the Shared Key signing identity).</summary>
    public string AccountName { get; set; } = "";

    /// <summary>Container name (required; must exist, the sink does not create it).</summary>
    public string Container { get; set; } = "";

    /// <summary>Blob service endpoint. Empty: <c>https://{AccountName}.blob.core.windows.net</c>. Override for
    /// sovereign clouds (<c>https://{account}.blob.core.chinacloudapi.cn</c>) or Azurite
    /// (<c>http://127.0.0.1:10000/devstoreaccount1</c>, path-style: the account is part of the endpoint).</summary>
    public string? Endpoint { get; set; }

    /// <summary>Base64 account key: Shared Key authorization.</summary>
    public string? AccountKey { get; set; }

    /// <summary>SAS token (with or without the leading <c>?</c>), appended to every request URL. Needs create+write
    /// permission on the container.</summary>
    public string? SasToken { get; set; }

    /// <summary>Microsoft Entra ID bearer tokens from the managed identity endpoint (IMDS on VMs/AKS, or
    /// IDENTITY_ENDPOINT + IDENTITY_HEADER on App Service / Container Apps / Functions).</summary>
    public bool ManagedIdentity { get; set; }

    /// <summary>Client id of a user-assigned managed identity. Empty: the system-assigned identity.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Token endpoint override (tests, proxies). Empty: IDENTITY_ENDPOINT from the environment when
    /// IDENTITY_HEADER is set too, else IMDS <c>http://169.254.169.254/metadata/identity/oauth2/token</c>.</summary>
    public string? ManagedIdentityEndpoint { get; set; }

    /// <summary>With <see cref="ManagedIdentityEndpoint"/>: the App Service / Container Apps secret sent as
    /// <c>X-IDENTITY-HEADER</c> (api-version 2019-08-01). Empty: IMDS style (<c>Metadata: true</c>, api-version 2018-02-01).</summary>
    public string? ManagedIdentityHeader { get; set; }

    /// <summary>Token audience. Default <c>https://storage.azure.com/</c> (all public and sovereign clouds accept it).</summary>
    public string ManagedIdentityResource { get; set; } = "https://storage.azure.com/";

    /// <summary>Per-request HTTP timeout (token fetch and upload each). Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal Uri ResolveEndpoint() =>
        new((string.IsNullOrWhiteSpace(Endpoint) ? $"https://{AccountName}.blob.core.windows.net" : Endpoint!).TrimEnd('/') + "/");

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, or returns when the options are usable.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(AccountName))
        {
            errors.Add("Azure Blob log sink: AccountName is required.");
        }
        else if (AccountName.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))))
        {
            errors.Add($"Azure Blob log sink: AccountName '{AccountName}' must be lowercase letters and digits.");
        }

        if (string.IsNullOrWhiteSpace(Container))
        {
            errors.Add("Azure Blob log sink: Container is required.");
        }
        else if (Container.Length is < 3 or > 63 || Container.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            errors.Add($"Azure Blob log sink: Container '{Container}' must be 3-63 lowercase letters, digits or '-'.");
        }

        var modes = (string.IsNullOrEmpty(AccountKey) ? 0 : 1) + (string.IsNullOrEmpty(SasToken) ? 0 : 1) + (ManagedIdentity ? 1 : 0);
        if (modes != 1)
        {
            errors.Add($"Azure Blob log sink: exactly one of AccountKey, SasToken or ManagedIdentity must be set ({modes} set).");
        }

        if (!string.IsNullOrEmpty(AccountKey) && !IsBase64(AccountKey))
        {
            errors.Add("Azure Blob log sink: AccountKey is not valid base64.");
        }

        if (!ManagedIdentity && (!string.IsNullOrEmpty(ManagedIdentityClientId) || !string.IsNullOrEmpty(ManagedIdentityEndpoint) || !string.IsNullOrEmpty(ManagedIdentityHeader)))
        {
            errors.Add("Azure Blob log sink: ManagedIdentityClientId/Endpoint/Header are set but ManagedIdentity is false.");
        }

        if (!string.IsNullOrEmpty(ManagedIdentityHeader) && string.IsNullOrEmpty(ManagedIdentityEndpoint))
        {
            errors.Add("Azure Blob log sink: ManagedIdentityHeader requires ManagedIdentityEndpoint.");
        }

        if (ManagedIdentity && string.IsNullOrWhiteSpace(ManagedIdentityResource))
        {
            errors.Add("Azure Blob log sink: ManagedIdentityResource must not be empty.");
        }

        CheckUrl(Endpoint, "Endpoint", errors);
        CheckUrl(ManagedIdentityEndpoint, "ManagedIdentityEndpoint", errors);

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("Azure Blob log sink: RequestTimeout must be positive.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors));
        }
    }

    /// <summary>Diagnostic text without secrets.</summary>
    public override string ToString() =>
        $"account={AccountName} container={Container} endpoint={ResolveEndpointText()} auth=" +
        (!string.IsNullOrEmpty(AccountKey) ? "shared-key"
            : !string.IsNullOrEmpty(SasToken) ? "sas"
            : ManagedIdentity ? "managed-identity" + (string.IsNullOrEmpty(ManagedIdentityClientId) ? "(system)" : $"(client {ManagedIdentityClientId})")
            : "none");

    private string ResolveEndpointText() => string.IsNullOrWhiteSpace(Endpoint) ? $"https://{AccountName}.blob.core.windows.net" : Endpoint!;

    private static void CheckUrl(string? value, string name, List<string> errors)
    {
        if (!string.IsNullOrEmpty(value)
            && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || !string.IsNullOrEmpty(uri.Query)))
        {
            errors.Add($"Azure Blob log sink: {name} '{value}' is not an absolute http(s) URL without a query.");
        }
    }

    private static bool IsBase64(string s)
    {
        var buffer = new byte[s.Length];
        return Convert.TryFromBase64String(s, buffer, out _);
    }
}
