using System.Globalization;
using StackExchange.Redis;

namespace Proxy.Redis;

/// <summary>Makes the shared store's connection from <see cref="RedisOptions"/>. Nothing here prints a password.</summary>
public static class RedisConnection
{
    public const int DefaultPort = 6379;

    /// <summary>Connects (or, with <see cref="RedisOptions.AbortOnConnectFail"/> false, starts connecting in the background).</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(RedisOptions options) =>
        await ConnectionMultiplexer.ConnectAsync(Configure(options));

    /// <summary>The StackExchange.Redis configuration the options describe. TLS certificates are always verified.</summary>
    public static ConfigurationOptions Configure(RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var url = options.Url?.Trim();
        if (string.IsNullOrEmpty(url)) throw new ArgumentException("redis: the url is empty", nameof(options));

        var config = IsUrl(url) ? FromUrl(url) : FromConfigurationString(url);
        if (!string.IsNullOrEmpty(options.Password)) config.Password = options.Password;
        config.ConnectTimeout = checked((int)Math.Max(1, options.ConnectTimeout.TotalMilliseconds));
        config.AbortOnConnectFail = options.AbortOnConnectFail;
        return config;
    }

    /// <summary>The url without its password, for logs and errors: <c>redis://:***@host:6379/0</c>.</summary>
    public static string Redact(string? url)
    {
        if (string.IsNullOrEmpty(url)) return "";
        if (IsUrl(url))
        {
            int scheme = url.IndexOf("://", StringComparison.Ordinal) + 3;
            int at = url.LastIndexOf('@');
            if (at < scheme) return url;
            var userInfo = url[scheme..at];
            int colon = userInfo.IndexOf(':');
            var user = colon < 0 ? "" : userInfo[..colon];
            return url[..scheme] + user + ":***" + url[at..];
        }
        try
        {
            return ConfigurationOptions.Parse(url, ignoreUnknown: true).ToString(includePassword: false);
        }
        catch (ArgumentException)
        {
            return "(unparsable redis configuration)";
        }
    }

    private static bool IsUrl(string url) =>
        url.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);

    private static ConfigurationOptions FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException($"redis: '{Redact(url)}' is not a redis://host[:port][/db] url");
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new ArgumentException($"redis: '{Redact(url)}' has a query or fragment; use a configuration string for options");

        var host = uri.DnsSafeHost; // IPv6 without brackets
        var config = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        config.EndPoints.Add(host, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port);
        if (config.Ssl) config.SslHost = host;

        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            if (parts[0].Length > 0) config.User = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2 && parts[1].Length > 0) config.Password = Uri.UnescapeDataString(parts[1]);
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int db))
                throw new ArgumentException($"redis: '{Redact(url)}': the path must be a database number");
            config.DefaultDatabase = db;
        }
        return config;
    }

    private static ConfigurationOptions FromConfigurationString(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException)
        {
            // Its message may quote the string, password included.
            throw new ArgumentException($"redis: '{Redact(configuration)}' is neither a redis:// url nor a valid configuration string");
        }
    }
}
