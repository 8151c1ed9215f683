using Npgsql;

namespace Proxy.ControlPlane;

/// <summary>
/// The connection to the control plane's Postgres: Npgsql's slim (Native AOT) data source with TLS available (verified
/// when the connection string asks for it: <c>SSL Mode=VerifyFull</c>, or <c>sslmode=verify-full</c> in a URL).
/// </summary>
public static class ControlPlaneDatabase
{
    public static NpgsqlDataSource Create(string connectionStringOrUrl, string applicationName = "llm-gateway")
    {
        var builder = new NpgsqlSlimDataSourceBuilder(ToConnectionString(connectionStringOrUrl));
        builder.EnableTransportSecurity();
        var csb = builder.ConnectionStringBuilder;
        csb.ApplicationName ??= applicationName;
        if (csb.Timeout == 15) csb.Timeout = 5;                 // the default 15 s connect would stall a start or an admin call
        if (csb.CommandTimeout == 30) csb.CommandTimeout = 10;
        if (csb.KeepAlive == 0) csb.KeepAlive = 10;             // the listener's connection notices a dead server
        if (csb.CancellationTimeout == 2000) csb.CancellationTimeout = 1000;
        return builder.Build();
    }

    /// <summary><c>postgres://user:password@host:port/db?sslmode=...</c> as an Npgsql connection string; anything else as it is.</summary>
    public static string ToConnectionString(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.Ordinal) && !value.StartsWith("postgresql://", StringComparison.Ordinal)) return value;
        var uri = new Uri(value);
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            csb.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) csb.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv.Length != 2) continue;
            var v = Uri.UnescapeDataString(kv[1]);
            switch (kv[0])
            {
                case "sslmode":
                    csb.SslMode = v switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new ArgumentException($"unknown sslmode '{v}'"),
                    };
                    break;
                case "application_name": csb.ApplicationName = v; break;
                case "connect_timeout": csb.Timeout = int.Parse(v, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }
        return csb.ConnectionString;
    }

    /// <summary>The connection string with its password removed, for messages.</summary>
    public static string Redact(string connectionStringOrUrl)
    {
        try
        {
            var csb = new NpgsqlConnectionStringBuilder(ToConnectionString(connectionStringOrUrl)) { Password = null };
            return $"{csb.Host}:{csb.Port}/{csb.Database}";
        }
        catch (Exception)
        {
            return "(unreadable connection string)";
        }
    }
}
