using Proxy.Config;

namespace Proxy.Providers.Google;

/// <summary>
/// The config fields that say how a Google provider gets its OAuth2 tokens, shared by every provider type that
/// authenticates to Google Cloud: <c>credentials_file</c> (a service-account JSON key, absolute path) or, without it,
/// the metadata server of the GCE VM / GKE pod the gateway runs on (<c>metadata_host</c>, else $GCE_METADATA_HOST,
/// else metadata.google.internal).
/// </summary>
public static class GoogleCredentials
{
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    public const string CredentialsFile = "credentials_file";
    public const string MetadataHost = "metadata_host";

    public static IReadOnlyCollection<string> Fields { get; } = [CredentialsFile, MetadataHost];

    public static void Validate(ProviderSettings settings, Action<string, string> error)
    {
        var file = settings.Extra.GetValueOrDefault(CredentialsFile);
        var host = settings.Extra.GetValueOrDefault(MetadataHost);
        if (file is not null)
        {
            if (host is not null) error(MetadataHost, "give either credentials_file or metadata_host, not both");
            if (!Path.IsPathFullyQualified(file)) error(CredentialsFile, $"'{file}' is not an absolute path");
            else
            {
                try
                {
                    ServiceAccountKey.Load(file);
                }
                catch (GoogleAuthException e)
                {
                    error(CredentialsFile, e.Message);
                }
            }
        }
        if (host is not null && (host.Length == 0 || host.Contains('/', StringComparison.Ordinal) || !Uri.TryCreate("http://" + host, UriKind.Absolute, out _)))
            error(MetadataHost, $"'{host}' is not a host or host:port (no scheme, no path)");
    }

    /// <summary>The token source the settings describe; owns the HTTP pool it fetches tokens with.</summary>
    public static AccessTokenSource CreateTokenSource(ProviderSettings settings, TimeProvider time, Func<string, string?>? environment = null)
    {
        if (settings.Extra.GetValueOrDefault(CredentialsFile) is { } file)
        {
            // The token endpoint is on the internet: it goes through the provider's proxy, if it has one.
            return new ServiceAccountTokenSource(file, CloudPlatformScope, UpstreamTransport.Create(settings), time);
        }
        var host = MetadataServerTokenSource.ResolveHost(settings.Extra.GetValueOrDefault(MetadataHost), environment ?? Environment.GetEnvironmentVariable);
        // The metadata server is link-local to the VM: never through a proxy.
        var direct = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = settings.ConnectTimeout };
        return new MetadataServerTokenSource(host, new HttpMessageInvoker(direct, disposeHandler: true), time);
    }

    /// <summary>The provider's connection pool with tokens put on every request.</summary>
    public static HttpMessageInvoker CreateInvoker(ProviderSettings settings, AccessTokenSource tokens) =>
        new(new GoogleAuthHandler(tokens, UpstreamTransport.CreateHandler(settings)), disposeHandler: true);
}
