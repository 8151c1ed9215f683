using System.Net.Security;

namespace Proxy.Http1;

/// <summary>How <see cref="Http1Handler"/> connects and keeps connections: the same limits SocketsHttpHandler was given.</summary>
internal sealed class Http1Options
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>An idle connection older than this is closed rather than reused.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Connections are recycled after this long, so DNS changes (failover, scaled endpoints) are seen within minutes.</summary>
    public TimeSpan ConnectionLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>0: no limit.</summary>
    public int MaxConnections { get; init; }

    /// <summary>
    /// Tests only: trusts their self-signed server. Never set from configuration; null keeps the system's validation.
    /// </summary>
    internal RemoteCertificateValidationCallback? TestCertificateValidation { get; init; }

    /// <summary>TLS for one host: the system's certificate validation, HTTP/1.1 offered by ALPN.</summary>
    public SslClientAuthenticationOptions TlsFor(string host) => new()
    {
        TargetHost = host,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        RemoteCertificateValidationCallback = TestCertificateValidation,
    };
}
